package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/train"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "export",
		Usage:     "write a model directory from a run directory (best checkpoint or an average), without optimizer state",
		ArgsUsage: "RUN_DIR|CHECKPOINT_DIR",
		Description: "Writes MODEL_DIR (--out): manifest.json (model, features, normalisation,\n" +
			"vocabulary, training config, metrics) and weights.tensors. From a run directory\n" +
			"it takes the checkpoint with the lowest validation WER (the newest if none was\n" +
			"evaluated), or, with --average K, the mean of the K newest checkpoints (default:\n" +
			"the run's checkpoint.average_last). --float16 halves the size. The model\n" +
			"directory is what asr transcribe --model, asr eval and the server load.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "model directory to write", Required: true},
			&cli.IntFlag{Name: "average", Value: -1, Usage: "average the weights of the K newest checkpoints (0 or 1: the best checkpoint; default: checkpoint.average_last of the run's config)"},
			&cli.BoolFlag{Name: "float16", Usage: "store the weights in half precision"},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing model directory"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("export takes one run or checkpoint directory, got %d arguments", c.NArg())
			}
			src := c.Args().First()
			k := c.Int("average")
			if k < 0 {
				k = defaultAverage(src)
			}
			ck, err := asr.Export(src, c.String("out"), asr.ExportOptions{Average: k, Float16: c.Bool("float16"), Overwrite: c.Bool("force")})
			if err != nil {
				return err
			}
			return writeExportSummary(c.App.Writer, ck)
		},
	})
}

// defaultAverage is checkpoint.average_last of the config stored in a run
// directory's newest checkpoint, or 0 when src is not a run directory.
func defaultAverage(src string) int {
	if !asr.IsRunDir(src) {
		return 0
	}
	list, err := asr.ListCheckpoints(src)
	if err != nil {
		return 0
	}
	for i := len(list) - 1; i >= 0; i-- {
		if m := list[i].Manifest; m != nil {
			var cfg train.Config
			if json.Unmarshal(m.Config, &cfg) == nil {
				return cfg.Checkpoint.AverageLast
			}
			return 0
		}
	}
	return 0
}

func writeExportSummary(w io.Writer, ck *asr.Checkpoint) error {
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
	return nil
}
