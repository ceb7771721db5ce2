package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/internal/atomicfile"
	"github.com/asrkit/asrkit/internal/curves"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "plot",
		Usage:     "draw the training curves of one or more runs, overlaid, to a PNG or SVG",
		ArgsUsage: "RUN_DIR|LOG.jsonl...",
		Description: "Reads each run directory's train.jsonl (or the event log named) and draws the\n" +
			"curves of every run in its colour: training loss (validation loss dashed),\n" +
			"learning rate, gradient norm, throughput (audio seconds per second) and the\n" +
			"validation WER and CER (CER dashed) against the step: the charts of the web\n" +
			"interface's Training page, for runs trained from the command line. The training\n" +
			"curves are smoothed as TensorBoard does (--smoothing 0 draws them raw); a resumed\n" +
			"run's repeated steps keep their latest values. A run being trained can be\n" +
			"plotted: its last, unfinished line is left out. The image (.png or .svg, by\n" +
			"--out's extension) is written atomically.\n\n" +
			"Examples:\n" +
			"  asr plot --out curves.png runs/tiny-cpu\n" +
			"  asr plot --out compare.png --log --panels loss,wer runs/lr-1e-3 runs/lr-3e-4",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, Usage: "image `FILE` to write (.png or .svg)"},
			&cli.Float64Flag{Name: "smoothing", Value: 0.6, Usage: "weight of the smoothing of the training curves, in [0, 1): 0 raw, larger smoother"},
			&cli.BoolFlag{Name: "log", Usage: "logarithmic y axes for loss, learning rate, gradient norm and throughput"},
			&cli.StringFlag{Name: "panels", Usage: "comma-separated panels to draw, of " + strings.Join(curves.Panels, ",") + " (default: every one with data)"},
			&cli.IntFlag{Name: "width", Value: 1200, Usage: "image width in pixels"},
			&cli.IntFlag{Name: "height", Usage: "image height in pixels (default: 330 per row of two panels, and 24 for the legend)"},
		},
		Action: plotCommand,
	})
}

func plotCommand(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("plot: name one or more run directories (or train.jsonl files)")
	}
	out := c.String("out")
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("plot: --out %s: the file name must end in .png or .svg", out)
	}
	opts := curves.Options{
		Format:    format,
		Width:     c.Int("width"),
		Height:    c.Int("height"),
		Smoothing: c.Float64("smoothing"),
		LogY:      c.Bool("log"),
	}
	if p := c.String("panels"); p != "" {
		for _, name := range strings.Split(p, ",") {
			opts.Panels = append(opts.Panels, strings.TrimSpace(name))
		}
	}
	var runs []curves.Run
	seen := map[string]int{}
	for _, path := range c.Args().Slice() {
		run, err := curves.Read(path)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if run.Empty() {
			return fmt.Errorf("plot: %s has no metrics or evaluations yet", path)
		}
		// Two runs of the same name (a/run, b/run) are told apart by their path.
		if seen[run.Name]++; seen[run.Name] > 1 {
			run.Name = path
		}
		runs = append(runs, run)
	}
	// When drawing fails, an existing image is left as it was.
	err := atomicfile.Write(out, 0o644, func(w io.Writer) error { return curves.Render(w, runs, opts) })
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (%d runs)\n", out, len(runs))
	return nil
}
