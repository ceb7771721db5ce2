package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/server"
	"github.com/asrkit/asrkit/web"
)

// tokenEnv is the environment variable holding the API token.
const tokenEnv = "ASR_API_TOKEN"

func init() {
	commands = append(commands, &cli.Command{
		Name:  "serve",
		Usage: "run the training and recognition service (REST + WebSocket)",
		Description: "Serves the web interface at / (the README's \"The web interface\"; --no-gui\n" +
			"turns it off) and the API described in the README (\"The service\"): transcription\n" +
			"(POST /v1/transcribe, the Vosk protocol on /v1/stream), model switching, training\n" +
			"jobs (each a child `asr train` process with its run directory under\n" +
			"--checkpoint-root), dataset checks, /healthz and Prometheus /metrics.\n\n" +
			"When $" + tokenEnv + " is set, every /v1/ endpoint needs \"Authorization: Bearer\n" +
			"<token>\" (WebSockets may pass ?token=). SIGINT or SIGTERM shuts down gracefully:\n" +
			"requests in flight finish and the running training job saves a checkpoint; it\n" +
			"shows as interrupted afterwards and resumes on request, or at the next start with\n" +
			"--resume-jobs.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Value: ":8000", Usage: "address to listen on"},
			&cli.StringFlag{Name: "data-root", Value: server.DefaultDataRoot, Usage: "datasets folder: relative paths of posted configs resolve under it"},
			&cli.StringFlag{Name: "checkpoint-root", Value: server.DefaultCheckpointRoot, Usage: "run directories of the training jobs (must be writable)"},
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model, checkpoint or run `DIR` to serve (default: the bundled model)"},
			&cli.StringFlag{Name: "backend", Usage: "compute backend of recognition: auto, go, xla:cuda or xla:/abs/plugin.so (default: $GOMLX_BACKEND, else auto)"},
			&cli.BoolFlag{Name: "resume-jobs", Usage: "resume the training jobs that the last shutdown interrupted"},
			&cli.IntFlag{Name: "workers", Usage: "transcriptions at once (0: one per core, at most 4)"},
			&cli.IntFlag{Name: "queue", Value: server.DefaultQueueSize, Usage: "transcription requests that may wait for a worker; more get 503 (-1: none)"},
			&cli.Int64Flag{Name: "max-body", Value: server.DefaultMaxBodyBytes, Usage: "largest transcription upload, in bytes"},
			&cli.DurationFlag{Name: "max-audio", Value: server.DefaultMaxAudio, Usage: "longest transcription upload"},
			&cli.DurationFlag{Name: "request-timeout", Value: server.DefaultRequestTimeout, Usage: "time limit of a transcription request"},
			&cli.IntFlag{Name: "max-jobs", Value: server.DefaultMaxJobs, Usage: "training jobs at once"},
			&cli.IntFlag{Name: "max-streams", Value: server.DefaultMaxStreams, Usage: "/v1/stream sessions at once"},
			&cli.DurationFlag{Name: "partial-interval", Value: server.DefaultPartialInterval, Usage: "audio between two partial results of a /v1/stream session (longer: cheaper)"},
			&cli.StringSliceFlag{Name: "allow-origin", Usage: "host `PATTERN` of web pages on another origin that may use the API (CORS and WebSockets), e.g. localhost:58080; repeatable"},
			&cli.DurationFlag{Name: "shutdown-timeout", Value: server.DefaultShutdownTimeout, Usage: "time for requests in flight and the training job's checkpoint at shutdown"},
			&cli.BoolFlag{Name: "no-gui", Usage: "serve the API only, not the web interface at /"},
		},
		Action: serveCommand,
	})
}

func serveCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments (got %q)", c.Args().Slice())
	}
	logger := appLogger(c)
	var gui http.Handler
	if !c.Bool("no-gui") {
		gui = web.Handler()
	}
	srv, err := server.New(server.Config{
		DataRoot:        c.String("data-root"),
		CheckpointRoot:  c.String("checkpoint-root"),
		Model:           c.String("model"),
		Backend:         c.String("backend"),
		Token:           os.Getenv(tokenEnv),
		MaxBodyBytes:    c.Int64("max-body"),
		MaxAudio:        c.Duration("max-audio"),
		Workers:         c.Int("workers"),
		QueueSize:       c.Int("queue"),
		RequestTimeout:  c.Duration("request-timeout"),
		MaxJobs:         c.Int("max-jobs"),
		MaxStreams:      c.Int("max-streams"),
		PartialInterval: c.Duration("partial-interval"),
		ResumeJobs:      c.Bool("resume-jobs"),
		AllowOrigins:    c.StringSlice("allow-origin"),
		ShutdownTimeout: c.Duration("shutdown-timeout"),
		GUI:             gui,
		Version:         version,
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("serve: %w", err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
