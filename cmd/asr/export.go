package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/checkpoint"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "export",
		Usage:     "write a model directory from a run directory (best checkpoint or an average), without optimizer state",
		ArgsUsage: "RUN_DIR|CHECKPOINT_DIR",
		Description: "Writes MODEL_DIR (--out): manifest.json (model, features, normalisation,\n" +
			"vocabulary, training config, metrics) and weights.safetensors. From a run directory\n" +
			"it takes the checkpoint with the lowest validation WER (the newest if none was\n" +
			"evaluated), or, with --average K, the mean of the K newest checkpoints (default:\n" +
			"the run's checkpoint.average_last). --float16 halves the size. With --lm the\n" +
			"directory also carries that ARPA language model (as lm.arpa.gz) and decodes\n" +
			"with it by default: beam search of --beam prefixes, --lm-weight, --word-bonus\n" +
			"(asr transcribe --no-lm turns it off). The model directory is what asr\n" +
			"transcribe --model, asr eval and asr.Load read.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "model directory to write", Required: true},
			&cli.IntFlag{Name: "average", Value: -1, Usage: "average the weights of the K newest checkpoints (0 or 1: the best checkpoint; default: checkpoint.average_last of the run's config)"},
			&cli.BoolFlag{Name: "float16", Usage: "store the weights in half precision"},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing model directory"},
			&cli.StringFlag{Name: "lm", Usage: "ARPA language model `FILE` (plain or .gz) for the directory to carry and decode with by default"},
			&cli.IntFlag{Name: "beam", Usage: "with --lm: default beam width (0: 8)"},
			&cli.Float64Flag{Name: "lm-weight", Usage: "with --lm: default weight of the language model (0: 0.5)"},
			&cli.Float64Flag{Name: "word-bonus", Usage: "with --lm: default log-probability bonus per word"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("export takes one run or checkpoint directory, got %d arguments", c.NArg())
			}
			src := c.Args().First()
			average := c.Int("average")
			switch {
			case average == -1 && !c.IsSet("average"):
				average = 0 // the library's default: the run's checkpoint.average_last
			case average == 0:
				average = 1 // the best checkpoint
			}
			if c.String("lm") == "" && (c.IsSet("beam") || c.IsSet("lm-weight") || c.IsSet("word-bonus")) {
				return fmt.Errorf("--beam, --lm-weight and --word-bonus are the defaults of --lm's decoding: give --lm")
			}
			ck, err := checkpoint.Export(src, c.String("out"), checkpoint.ExportOptions{
				Average: average, Float16: c.Bool("float16"), Overwrite: c.Bool("force"),
				Logger: appLogger(c), LM: c.String("lm"), Beam: c.Int("beam"), LMWeight: c.Float64("lm-weight"), WordBonus: c.Float64("word-bonus"),
			})
			if err != nil {
				return err
			}
			return writeExportSummary(c.App.Writer, ck)
		},
	})
}

func writeExportSummary(w io.Writer, ck *checkpoint.Checkpoint) error {
	m := ck.Manifest
	x := m.Export
	if x == nil {
		return errors.New("export: no export information written")
	}
	how := fmt.Sprintf("checkpoint of step %d", m.Step)
	if x.Averaged {
		how = fmt.Sprintf("average of steps %v", x.Checkpoints)
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(w, "exported %s to %s\n", how, ck.Dir)
	fmt.Fprintf(w, "model %s, %d parameters, %s (float16 %v)\n", m.Model.Preset, m.Parameters, sizeText(size), x.Float16)
	if e := m.Metrics.Eval; e != nil {
		fmt.Fprintf(w, "validation WER %.2f%%, CER %.2f%% at step %d\n", 100*e.WER, 100*e.CER, e.Step)
	}
	if d := m.Decoding; d != nil && d.LM != "" {
		fmt.Fprintf(w, "decodes by default with %s: beam %d, lm weight %g, word bonus %g\n", d.LM, d.Beam, d.LMWeight, d.WordBonus)
	}
	return nil
}
