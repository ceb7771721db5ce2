package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/web"
)

// apiURLEnv is the environment variable with the default of asr gui --api.
const apiURLEnv = "ASR_API_URL"

func init() {
	commands = append(commands, &cli.Command{
		Name:  "gui",
		Usage: "serve the web interface, proxying its API calls to an asr serve elsewhere",
		Description: "Serves the web pages that `asr serve` also serves at / (training, data,\n" +
			"transcription), and proxies /v1/ (HTTP and WebSocket) to the API at --api: the\n" +
			"docker compose frontend service. The browser's token (Authorization header, or\n" +
			"?token= of WebSockets) is forwarded unchanged: when the API needs one, the pages\n" +
			"ask for it once. GET /healthz answers 200 when the API answers its own /healthz,\n" +
			"503 otherwise (for container healthchecks: asr healthcheck URL/healthz).\n\n" +
			"Example:\n" +
			"  asr gui --listen :8501 --api http://asr-api:8000",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Value: ":8501", Usage: "address to listen on"},
			&cli.StringFlag{Name: "api", Value: "http://localhost:8000", EnvVars: []string{apiURLEnv}, Usage: "base `URL` of the asr serve API"},
			&cli.DurationFlag{Name: "shutdown-timeout", Value: 30 * time.Second, Usage: "time for requests in flight at shutdown (open WebSockets are closed)"},
		},
		Action: guiCommand,
	})
}

func guiCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("gui takes no arguments (got %q)", c.Args().Slice())
	}
	logger := appLogger(c)
	fe, err := web.NewFrontend(web.FrontendConfig{API: c.String("api"), Logger: logger})
	if err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("gui: %w", err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveFrontend(ctx, ln, fe, c.Duration("shutdown-timeout"), logger, c.String("api"))
}

// serveFrontend serves fe on ln until ctx is done, then shuts down within
// timeout: requests in flight finish, WebSockets are closed.
func serveFrontend(ctx context.Context, ln net.Listener, fe *web.Frontend, timeout time.Duration, log *slog.Logger, apiURL string) error {
	hs := &http.Server{
		Handler:           fe,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Shutdown does not close upgraded (WebSocket) connections.
	hs.RegisterOnShutdown(fe.CloseWebSockets)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving the web interface", "addr", ln.Addr().String(), "api", apiURL)
	select {
	case err := <-errc:
		return fmt.Errorf("gui: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("gui: shutdown: %w", err)
	}
	return nil
}
