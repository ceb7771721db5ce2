package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/backend"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:  "model",
		Usage: "inspect acoustic model configurations",
		Subcommands: []*cli.Command{{
			Name:  "info",
			Usage: "print a preset's configuration, the shape after each block and its parameter count",
			Description: "Builds the model graph (without running it) for one utterance and prints the\n" +
				"output shape and the weights of each block. The last line is \"<N> parameters\":\n" +
				"the model's weights only, without optimizer state.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "preset", Value: model.DefaultPreset,
					Usage: "model preset: " + strings.Join(model.PresetNames(), ", ")},
				&cli.Float64Flag{Name: "seconds", Value: 10, Usage: "utterance length used for the shapes (100 frames per second)"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return fmt.Errorf("model info takes no arguments, got %q", c.Args().Slice())
				}
				return modelInfo(c.App.Writer, c.String("preset"), c.Float64("seconds"))
			},
		}},
	})
}

// modelInfo writes the summary of a preset for an utterance of the given length.
func modelInfo(w io.Writer, preset string, seconds float64) error {
	cfg, err := model.Preset(preset)
	if err != nil {
		return err
	}
	frames := int(seconds*100 + 0.5)
	if frames < 1 || seconds > 3600 {
		return fmt.Errorf("--seconds must be between 0.01 and 3600, got %g", seconds)
	}
	// Building a graph needs a backend but runs nothing: the pure-Go one is
	// always available and cheap to create.
	be, _, err := backend.New(context.Background(), backend.SpecGo)
	if err != nil {
		return err
	}
	defer be.Finalize()
	stages, params, err := model.Summary(be, cfg, frames)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "preset %s: Conformer-CTC, d_model %d, %d layers, %d heads, ffn %d, conv kernel %d, subsampling x%d, vocabulary %d\n",
		cfg.Preset, cfg.DModel, cfg.NumLayers, cfg.NumHeads, cfg.FFNDim, cfg.ConvKernel, model.SubsamplingFactor, cfg.VocabSize)
	fmt.Fprintf(w, "shapes for one utterance of %d frames (%.2f s):\n", frames, float64(frames)/100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "block\tshape\tparameters\t")
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%v\t%d\t\n", s.Name, s.Shape, s.Parameters)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d parameters\n", params)
	return nil
}
