package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr/train"
	"github.com/asrkit/asrkit/internal/progress"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "train",
		Usage:     "train a model from a YAML config, resuming from the newest checkpoint of its run directory",
		ArgsUsage: " ",
		Description: "Reads the config (every key: docs/config.md), checks the dataset and builds its\n" +
			"feature cache, then trains, evaluating on the validation set every\n" +
			"train.eval_every steps and saving a checkpoint every checkpoint.every steps into\n" +
			"the run directory (checkpoint.dir). Running the same command again resumes from\n" +
			"the newest checkpoint; --fresh starts over (with --force if checkpoints exist).\n\n" +
			"Ctrl+C or SIGTERM finishes the current step, saves a checkpoint and exits with\n" +
			"status 0. A repeat within 2 seconds is the same request (GNU timeout signals\n" +
			"the process and its group); a signal after that quits at once (the last\n" +
			"checkpoint stays intact).\n" +
			"Progress is a bar on a terminal and log lines otherwise; every event is also\n" +
			"appended to the run's train.jsonl.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "training config (YAML)", Required: true},
			&cli.StringFlag{Name: "backend", Usage: "compute backend: auto, go, xla:cuda or xla:/abs/plugin.so (overrides train.backend and $GOMLX_BACKEND)"},
			&cli.StringFlag{Name: "run-dir", Usage: "run directory (overrides checkpoint.dir)"},
			&cli.BoolFlag{Name: "fresh", Usage: "start from step 0 instead of resuming"},
			&cli.BoolFlag{Name: "force", Usage: "with --fresh: delete the run directory's checkpoints"},
			&cli.Int64Flag{Name: "stop-at", Usage: "stop (saving a checkpoint) after this step; run again to continue"},
			&cli.BoolFlag{Name: "no-progress", Usage: "log lines instead of a progress bar, even on a terminal"},
		},
		Action: trainCommand,
	})
}

func trainCommand(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("train takes no arguments (got %q); name the config with --config", c.Args().Slice())
	}
	if c.Bool("force") && !c.Bool("fresh") {
		return errors.New("--force only goes with --fresh")
	}
	cfg, err := train.LoadConfig(c.String("config"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()

	opts := train.Options{
		Backend:    c.String("backend"),
		RunDir:     c.String("run-dir"),
		Fresh:      c.Bool("fresh"),
		Force:      c.Bool("force"),
		StopAtStep: c.Int64("stop-at"),
		Logger:     appLogger(c),
	}
	stderr := c.App.ErrWriter
	if stderr == nil {
		stderr = os.Stderr
	}
	var view *trainView
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.Bool("no-progress") {
		// One terminal for the bars (feature cache, training) and the log
		// lines, which go above the bar.
		t := progress.NewTerminal(f)
		level := slog.LevelInfo
		if c.Bool("verbose") {
			level = slog.LevelDebug
		}
		opts.Logger = slog.New(slog.NewTextHandler(t, &slog.HandlerOptions{Level: level}))
		opts.Progress = t
		view = &trainView{term: t}
		opts.Observer = view.observe
	} else {
		opts.Observer = train.LogEvents(opts.Logger)
	}
	stop := stopOnSignal(cancel, opts.Logger, stderr)
	defer stop()

	res, err := train.Run(ctx, cfg, opts)
	view.close() // end the bar's line before printing below it
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			fmt.Fprintln(c.App.Writer, "interrupted before the first step: nothing to save")
			return nil
		}
		return err
	}
	return writeTrainSummary(c.App.Writer, res)
}

// repeatWindow is how long after the first stop signal a repeat counts as
// the same request. GNU timeout sends its signal to the process and to its
// process group, and Ctrl+C reaches every process of the terminal's
// group, so one request can arrive as two signals at once.
const repeatWindow = 2 * time.Second

// stopAction is what a stop signal asks for.
type stopAction int

const (
	stopSaving stopAction = iota // finish the step, save, exit 0
	stopRepeat                   // the same request again: keep saving
	stopQuit                     // quit at once, without saving
)

// stopper decides what each stop signal means: the first stops training
// (with a checkpoint), repeats within window are the same request, and a
// signal after that quits.
type stopper struct {
	window time.Duration
	now    func() time.Time
	first  time.Time // when the first signal came; zero before it
}

func (s *stopper) handle() stopAction {
	now := s.now()
	switch {
	case s.first.IsZero():
		s.first = now
		return stopSaving
	case now.Sub(s.first) < s.window:
		return stopRepeat
	}
	return stopQuit
}

// stopOnSignal cancels training on the first SIGINT or SIGTERM (the
// trainer then finishes its step and saves), ignores repeats within
// repeatWindow, and exits at once on a later one (status 128 + the
// signal's number). It returns a function that stops listening.
func stopOnSignal(cancel context.CancelFunc, log *slog.Logger, stderr io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		defer signal.Stop(sigs)
		st := stopper{window: repeatWindow, now: time.Now}
		for {
			var s os.Signal
			select {
			case s = <-sigs:
			case <-done:
				return
			}
			switch st.handle() {
			case stopSaving:
				log.Warn(fmt.Sprintf("stopping after the current step and saving a checkpoint (signal again after %s to quit at once)", repeatWindow), "signal", s.String())
				cancel()
			case stopRepeat:
				log.Info("signal repeated at once: the same request, still saving", "signal", s.String())
			case stopQuit:
				fmt.Fprintf(stderr, "asr: %s again: quitting without saving (the previous checkpoint is intact)\n", s)
				code := 130
				if n, ok := s.(syscall.Signal); ok {
					code = 128 + int(n)
				}
				os.Exit(code)
			}
		}
	}()
	return func() { close(done) }
}

func writeTrainSummary(w io.Writer, r *train.Result) error {
	var b strings.Builder
	switch {
	case r.Finished && r.ResumedFrom == r.Step:
		fmt.Fprintf(&b, "already finished: step %d of %d\n", r.Step, r.TotalSteps)
	case r.Finished:
		fmt.Fprintf(&b, "finished: step %d of %d\n", r.Step, r.TotalSteps)
	default:
		fmt.Fprintf(&b, "stopped at step %d of %d; run the same command to resume\n", r.Step, r.TotalSteps)
	}
	fmt.Fprintf(&b, "run directory: %s\n", r.RunDir)
	if r.Checkpoint != "" {
		fmt.Fprintf(&b, "checkpoint:    %s\n", r.Checkpoint)
	}
	if r.Eval != nil {
		fmt.Fprintf(&b, "validation:    WER %.2f%%, CER %.2f%% at step %d (%d utterances)\n", 100*r.Eval.WER, 100*r.Eval.CER, r.Eval.Step, r.Eval.Utterances)
	}
	if r.Step > r.ResumedFrom {
		fmt.Fprintf(&b, "this run:      %d steps, %.1f s of audio, loss %.4f per token; %.1f audio-s/s over %s of training\n",
			r.Step-r.ResumedFrom, r.AudioSeconds, r.Loss, r.AudioSecondsPerSecond(), r.TrainTime.Round(time.Millisecond))
		fmt.Fprintf(&b, "               (apart: data preparation %s, graph compilation %s, evaluation %s, checkpoints %s)\n",
			r.PrepareTime.Round(time.Millisecond), r.CompileTime.Round(time.Millisecond), r.EvalTime.Round(time.Millisecond), r.CheckpointTime.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "backend:       %s\n", r.Backend)
	_, err := io.WriteString(w, b.String())
	return err
}

// trainView shows training on a terminal: a progress bar of the steps
// (internal/progress, the style of every asrkit bar) and, above it, the
// other events (evaluations, checkpoints, state changes) and log lines.
type trainView struct {
	term *progress.Terminal
	bar  *progress.Bar
}

func (v *trainView) println(s string) { fmt.Fprintln(v.term, s) }

// close ends the bar's line where it stands.
func (v *trainView) close() {
	if v != nil && v.bar != nil {
		v.bar.Close()
		v.bar = nil
	}
}

func (v *trainView) observe(e train.Event) {
	switch e.Type {
	case train.EventMetrics:
		if v.bar == nil {
			v.bar = progress.New(v.term, e.TotalSteps, progress.Options{Description: "train"})
		}
		v.bar.Describe(barText(e))
		v.bar.Set(e.Step)
	case train.EventEval:
		v.println(e.String())
		for _, s := range e.Eval.Samples {
			v.println(fmt.Sprintf("  %s\n    ref: %s\n    hyp: %s", s.ID, s.Reference, s.Hypothesis))
		}
	case train.EventState:
		if e.State.State != train.StateTraining || e.State.Message != "" {
			v.println(e.String())
		}
	default:
		v.println(e.String())
	}
}

// barText is the text before the bar: the latest loss, learning rate,
// speed and time left (the trainer's estimate, which counts only this
// run's steps).
func barText(e train.Event) string {
	m := e.Metrics
	eta := time.Duration(m.ETA * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("train  loss %.3f  lr %.2e  %.1f audio-s/s  ETA %s ", m.Loss, m.LearningRate, m.AudioSecondsPerSecond, eta)
}
