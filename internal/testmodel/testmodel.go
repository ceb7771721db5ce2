// Package testmodel builds the small models that tests run: a randomly
// initialised model of a preset, saved as a one-checkpoint run directory
// and exported as a model directory. It transcribes nonsense, but
// deterministically (for a seed), which is all most tests of loading,
// decoding and the command line need. Tests that need a trained model use
// testdata/models instead.
package testmodel

import (
	gocontext "context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testutil"
)

// Run builds the graph of the model cfg on ctx, runs it on feats (shape
// [1, frames, cfg.InputDim]) and returns the log-probabilities, flat. The
// first run on a fresh context creates and initialises the model's
// variables (from its ParamInitialSeed), or takes them from the context's
// loader.
func Run(tb testing.TB, be backends.Backend, ctx *context.Context, cfg model.Config, feats *tensors.Tensor) []float32 {
	tb.Helper()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, x, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbs(ctx, cfg, x, lengths, false)
		return lp
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(feats, []int32{int32(feats.Shape().Dim(1))})
	if err != nil {
		tb.Fatal(err)
	}
	var flat []float32
	tensors.MustConstFlatData(out[0], func(f []float32) { flat = slices.Clone(f) })
	return flat
}

// Dirs saves a randomly initialised model of the preset (weights seeded by
// seed, the normalisation of the testdata LJSpeech clips) as a run
// directory with one checkpoint (step 1), exports it as a model directory
// (weights in float16 when half is true), and returns both. They are
// removed when the test ends.
func Dirs(tb testing.TB, preset string, seed int64, half bool) (runDir, modelDir string) {
	tb.Helper()
	cfg, err := model.Preset(preset)
	if err != nil {
		tb.Fatal(err)
	}
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		tb.Fatal(err)
	}
	defer be.Finalize()
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, seed)
	Run(tb, be, ctx, cfg, tensors.FromFlatDataAndDimensions(make([]float32, 8*cfg.InputDim), 1, 8, cfg.InputDim))
	weights, _ := checkpoint.ModelVariables(ctx)
	dir := tb.TempDir()
	runDir = filepath.Join(dir, "run")
	m := &checkpoint.Manifest{
		Step: 1, Model: cfg, Parameters: cfg.NumParameters(), Features: features.DefaultConfig(),
		Normalization: ClipNorm(tb), Vocabulary: text.DefaultVocabulary(),
		Training: &checkpoint.TrainingState{TotalSteps: 1, Seed: seed},
	}
	if _, err := checkpoint.Save(runDir, m, weights, nil); err != nil {
		tb.Fatal(err)
	}
	modelDir = filepath.Join(dir, "model")
	if _, err := checkpoint.Export(runDir, modelDir, checkpoint.ExportOptions{Float16: half}); err != nil {
		tb.Fatal(err)
	}
	return runDir, modelDir
}

var (
	normOnce sync.Once
	norm     features.Normalization
	normErr  error
)

// ClipNorm returns the global normalisation of the testdata LJSpeech clips
// (default features), as training would estimate it. It is computed once
// per test binary.
func ClipNorm(tb testing.TB) features.Normalization {
	tb.Helper()
	clips := testutil.LJSpeechClips(tb)
	normOnce.Do(func() { norm, normErr = clipNorm(clips) })
	if normErr != nil {
		tb.Fatal(normErr)
	}
	return norm
}

func clipNorm(clips []string) (features.Normalization, error) {
	ext, err := features.NewExtractor(features.DefaultConfig())
	if err != nil {
		return features.Normalization{}, err
	}
	stats := features.NewStats(features.DefaultNumMels)
	for _, p := range clips {
		a, err := features.DecodeFile(p)
		if err != nil {
			return features.Normalization{}, err
		}
		x, err := features.Resample(a.Samples, a.SampleRate, 16000)
		if err != nil {
			return features.Normalization{}, err
		}
		m, err := ext.Compute(x)
		if err != nil {
			return features.Normalization{}, err
		}
		if err := stats.Add(m); err != nil {
			return features.Normalization{}, err
		}
	}
	return stats.Normalization()
}
