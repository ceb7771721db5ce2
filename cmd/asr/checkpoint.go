package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/checkpoint"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:  "checkpoint",
		Usage: "inspect the checkpoints of a run directory, or a model directory",
		Subcommands: []*cli.Command{
			{
				Name:      "inspect",
				Usage:     "print the manifest of a run directory's newest checkpoint (or of a checkpoint or model directory)",
				ArgsUsage: "RUN_DIR|CHECKPOINT_DIR|MODEL_DIR",
				Description: "Prints what the manifest records: step, time, model and feature configuration,\n" +
					"vocabulary, normalisation, training state, metrics and files, one \"key value\"\n" +
					"line each (\"step <N>\" among them). The files are verified; for a run directory\n" +
					"the newest usable checkpoint is shown (damaged ones are skipped with a warning).",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "json", Usage: "print the manifest as JSON"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("checkpoint inspect takes one directory, got %d arguments", c.NArg())
					}
					dir := c.Args().First()
					var ck *checkpoint.Checkpoint
					var err error
					if checkpoint.IsRunDir(dir) {
						ck, err = checkpoint.Latest(dir, appLogger(c))
					} else {
						ck, err = checkpoint.Open(dir)
					}
					if err != nil {
						return err
					}
					if c.Bool("json") {
						enc := json.NewEncoder(c.App.Writer)
						enc.SetIndent("", "  ")
						return enc.Encode(ck.Manifest)
					}
					return writeManifest(c.App.Writer, ck)
				},
			},
			{
				Name:      "list",
				Usage:     "list the checkpoints of a run directory with their metrics",
				ArgsUsage: "RUN_DIR",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("checkpoint list takes one run directory, got %d arguments", c.NArg())
					}
					return listCheckpoints(c.App.Writer, c.Args().First())
				},
			},
		},
	})
}

// writeManifest prints a checkpoint's manifest as "key value" lines.
func writeManifest(w io.Writer, ck *checkpoint.Checkpoint) error {
	m := ck.Manifest
	var b strings.Builder
	line := func(key, format string, args ...any) { fmt.Fprintf(&b, "%s %s\n", key, fmt.Sprintf(format, args...)) }
	line("dir", "%s", ck.Dir)
	line("kind", "%s", m.Kind)
	line("format", "%d", m.FormatVersion)
	line("step", "%d", m.Step)
	line("time", "%s", m.Time.Format(time.RFC3339))
	mc := m.Model
	line("model", "%s: d_model %d, %d layers, %d heads, ffn %d, conv kernel %d, subsampling dim %d, dropout %g, %d parameters",
		mc.Preset, mc.DModel, mc.NumLayers, mc.NumHeads, mc.FFNDim, mc.ConvKernel, mc.SubsamplingDim, deref(mc.Dropout), m.Parameters)
	f := m.Features.WithDefaults()
	line("features", "%d Hz, %d mel bands (%s scale, %s norm, %g-%g Hz), window %d (%s), hop %d, n_fft %d, preemphasis %g, dither %g",
		f.SampleRate, f.NumMels, f.MelScale, f.MelNorm, f.FMin, f.FMax, f.WinLength, f.Window, f.HopLength, f.NFFT, deref(f.Preemphasis), deref(f.Dither))
	syms := m.Vocabulary.Symbols()
	line("vocabulary", "%d symbols: %s", len(syms), strings.Join(quoteSymbols(syms), " "))
	lo, hi := minMax(m.Normalization.Mean)
	slo, shi := minMax(m.Normalization.Std)
	line("normalization", "%d bands, mean %.3g to %.3g, std %.3g to %.3g", len(m.Normalization.Mean), lo, hi, slo, shi)
	if t := m.Training; t != nil {
		line("training", "epoch %d batch %d, %d of %d steps, %d utterances (%.2f h of audio), %s of training, seed %d",
			t.Epoch, t.Batch, m.Step, t.TotalSteps, t.Utterances, t.AudioSeconds/3600, time.Duration(t.TrainSeconds*float64(time.Second)).Round(time.Second).String(), t.Seed)
	}
	if m.Metrics.TrainLoss > 0 || m.Metrics.LearningRate > 0 {
		line("train_loss", "%.4f", m.Metrics.TrainLoss)
		line("learning_rate", "%.4g", m.Metrics.LearningRate)
	}
	if e := m.Metrics.Eval; e != nil {
		line("eval", "step %d: WER %.2f%%, CER %.2f%%, loss %.4f on %d utterances (%d words)", e.Step, 100*e.WER, 100*e.CER, e.Loss, e.Utterances, e.Words)
	} else {
		line("eval", "none")
	}
	if x := m.Export; x != nil {
		how := "best checkpoint"
		if x.Averaged {
			how = "average"
		}
		line("export", "%s of steps %v from %s, float16 %v", how, x.Checkpoints, x.Source, x.Float16)
	}
	if d := m.Decoding; d != nil {
		line("decoding", "beam %d, lm %q, lm weight %g, word bonus %g", d.Beam, d.LM, d.LMWeight, d.WordBonus)
	}
	for _, fi := range m.Files {
		line("file", "%s %s", fi.Name, sizeText(fi.Size))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func quoteSymbols(syms []string) []string {
	out := make([]string, len(syms))
	for i, s := range syms {
		switch s {
		case " ":
			out[i] = "<space>"
		default:
			out[i] = s
		}
	}
	return out
}

func minMax(x []float32) (float32, float32) {
	if len(x) == 0 {
		return 0, 0
	}
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func listCheckpoints(w io.Writer, run string) error {
	list, err := checkpoint.List(run)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("%w in %s", checkpoint.ErrNoCheckpoint, run)
	}
	best, _ := checkpoint.Best(run, nil) // damaged ones are listed below
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\ttime\ttrain loss\tWER\tCER\tsize\t")
	for _, c := range list {
		name := filepath.Base(c.Dir)
		if c.Err != nil {
			fmt.Fprintf(tw, "%d\tdamaged: %v\t\t\t\t\t\n", c.Step, c.Err)
			continue
		}
		m := c.Manifest
		wer, cer := "-", "-"
		if e := m.Metrics.Eval; e != nil {
			wer, cer = fmt.Sprintf("%.2f%%", 100*e.WER), fmt.Sprintf("%.2f%%", 100*e.CER)
		}
		var size int64
		for _, f := range m.Files {
			size += f.Size
		}
		mark := ""
		if best != nil && filepath.Base(best.Dir) == name {
			mark = "best"
		}
		fmt.Fprintf(tw, "%d\t%s\t%.4f\t%s\t%s\t%s\t%s\n", c.Step, m.Time.Local().Format("2006-01-02 15:04:05"), m.Metrics.TrainLoss, wer, cer, sizeText(size), mark)
	}
	return tw.Flush()
}
