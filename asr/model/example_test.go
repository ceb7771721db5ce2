package model_test

import (
	gocontext "context"
	"fmt"
	"log"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/backend"
)

// A Config names a preset and overrides some of its fields; zero fields take
// the preset's values.
func ExampleConfig_Resolve() {
	cfg, err := model.Config{Preset: "small", NumLayers: 8}.Resolve()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.DModel, cfg.NumLayers, cfg.NumHeads, cfg.ConvKernel, *cfg.Dropout)
	fmt.Println(cfg.NumParameters(), "parameters")
	// Output:
	// 176 8 4 31 0.1
	// 5881069 parameters
}

func ExamplePreset() {
	for _, name := range model.PresetNames() {
		cfg, _ := model.Preset(name)
		fmt.Printf("%-6s d_model %3d, %2d layers: %8d parameters\n", name, cfg.DModel, cfg.NumLayers, cfg.NumParameters())
	}
	// Output:
	// tiny   d_model  96,  2 layers:   469373 parameters
	// small  d_model 176, 16 layers: 11666541 parameters
	// medium d_model 256, 18 layers: 27592989 parameters
}

func ExampleOutputLength() {
	fmt.Println(model.OutputLength(400), model.OutputLength(401), model.OutputLength(1))
	// Output: 100 101 1
}

// LogProbs is a graph function: run it with a context.Exec. The variables
// are created (randomly initialised) on the first run, or loaded from a
// checkpoint into ctx beforehand.
func ExampleLogProbs() {
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		log.Fatal(err)
	}
	cfg, _ := model.Preset("tiny")
	ctx := context.New()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
		return model.LogProbs(ctx, cfg, feats, lengths, false)
	})
	if err != nil {
		log.Fatal(err)
	}
	feats := make([][][]float32, 2) // two utterances of 7 and 5 frames, padded to 7
	for i := range feats {
		feats[i] = make([][]float32, 7)
		for t := range feats[i] {
			feats[i][t] = make([]float32, cfg.InputDim)
		}
	}
	out, err := exec.Exec(feats, []int32{7, 5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Shape(), out[1].Value())
	// Output: (Float32)[2 2 29] [2 2]
}

// LogProbsWith builds the training graph in bfloat16 (with dropout): the
// matrix products run in bfloat16, the variables it creates are float32 and
// so are the log-probabilities.
func ExampleLogProbsWith() {
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		log.Fatal(err)
	}
	cfg, _ := model.Preset("tiny")
	ctx := context.New()
	opts := model.Options{Training: true, Precision: model.PrecisionBFloat16}
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbsWith(ctx, cfg, feats, lengths, opts)
		return lp
	})
	if err != nil {
		log.Fatal(err)
	}
	feats := make([][][]float32, 1)
	feats[0] = make([][]float32, 8)
	for t := range feats[0] {
		feats[0][t] = make([]float32, cfg.InputDim)
	}
	out, err := exec.Exec(feats, []int32{8})
	if err != nil {
		log.Fatal(err)
	}
	v := ctx.GetVariableByScopeAndName("/model/output/dense", "weights")
	fmt.Println(out[0].Shape(), v.Shape())
	// Output: (Float32)[1 2 29] (Float32)[96 29]
}
