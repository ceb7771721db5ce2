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
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr/train"
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
			"status 0; a second signal quits at once (the last checkpoint stays intact).\n" +
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
	cfg, err := train.LoadConfig(c.String("config"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	stopOnSignal(ctx, cancel)

	opts := train.Options{
		Backend:    c.String("backend"),
		RunDir:     c.String("run-dir"),
		Fresh:      c.Bool("fresh"),
		Force:      c.Bool("force"),
		StopAtStep: c.Int64("stop-at"),
	}
	if c.Bool("force") && !c.Bool("fresh") {
		return errors.New("--force only goes with --fresh")
	}
	finish := func() {}
	stderr := c.App.ErrWriter
	if stderr == nil {
		stderr = os.Stderr
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.Bool("no-progress") {
		view := newProgressView(f)
		logger := slog.New(slog.NewTextHandler(view, &slog.HandlerOptions{Level: slog.LevelInfo}))
		opts.Logger = logger
		opts.Observer = view.observe
		opts.Progress = f
		finish = view.finish
	} else {
		opts.Logger = appLogger(c)
		opts.Observer = train.LogEvents(opts.Logger)
	}

	res, err := train.Run(ctx, cfg, opts)
	finish() // end the progress bar's line before printing below it
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			fmt.Fprintln(c.App.Writer, "interrupted before the first step: nothing to save")
			return nil
		}
		return err
	}
	return writeTrainSummary(c.App.Writer, res)
}

// stopOnSignal cancels ctx on the first SIGINT or SIGTERM (the trainer then
// finishes its step and saves) and exits at once on the second.
func stopOnSignal(ctx context.Context, cancel context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(sigs)
		select {
		case s := <-sigs:
			slog.Warn("stopping after the current step and saving a checkpoint (signal again to quit at once)", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		s := <-sigs
		fmt.Fprintf(os.Stderr, "asr: %s again: quitting without saving (the previous checkpoint is intact)\n", s)
		os.Exit(130)
	}()
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

// progressView draws a one-line progress bar on a terminal from the
// training events and prints the other events (and log lines, as the
// io.Writer of the logger) above it.
type progressView struct {
	mu    sync.Mutex
	out   *os.File
	bar   string
	start time.Time
}

func newProgressView(f *os.File) *progressView { return &progressView{out: f, start: time.Now()} }

// Write prints log output above the bar.
func (p *progressView) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	n, err := p.out.Write(b)
	p.draw()
	return n, err
}

func (p *progressView) clear() {
	if p.bar != "" {
		fmt.Fprint(p.out, "\r\033[K")
	}
}

func (p *progressView) draw() {
	if p.bar != "" {
		fmt.Fprint(p.out, p.bar)
	}
}

func (p *progressView) println(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.out, s)
	p.draw()
}

func (p *progressView) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != "" {
		fmt.Fprintln(p.out)
		p.bar = ""
	}
}

func (p *progressView) observe(e train.Event) {
	switch e.Type {
	case train.EventMetrics:
		p.mu.Lock()
		p.clear()
		p.bar = p.render(e)
		p.draw()
		p.mu.Unlock()
	case train.EventEval:
		p.println(e.String())
		for _, s := range e.Eval.Samples {
			p.println(fmt.Sprintf("  %s\n    ref: %s\n    hyp: %s", s.ID, s.Reference, s.Hypothesis))
		}
	case train.EventState:
		if e.State.State != train.StateTraining || e.State.Message != "" {
			p.println(e.String())
		}
	default:
		p.println(e.String())
	}
}

// render is the bar line: step, bar, percentage, loss, lr, speed, ETA,
// cut to the terminal's width.
func (p *progressView) render(e train.Event) string {
	m := e.Metrics
	frac := 0.0
	if e.TotalSteps > 0 {
		frac = float64(e.Step) / float64(e.TotalSteps)
	}
	const cells = 24
	full := int(frac*cells + 0.5)
	bar := strings.Repeat("█", full) + strings.Repeat("·", cells-full)
	eta := time.Duration(m.ETA * float64(time.Second)).Round(time.Second)
	line := fmt.Sprintf("step %d/%d %s %3.0f%%  loss %.3f  lr %.2e  %.1f audio-s/s  ETA %s",
		e.Step, e.TotalSteps, bar, 100*frac, m.Loss, m.LearningRate, m.AudioSecondsPerSecond, eta)
	if w, _, err := term.GetSize(int(p.out.Fd())); err == nil && w > 10 {
		if r := []rune(line); len(r) > w-1 {
			line = string(r[:w-1])
		}
	}
	return line
}
