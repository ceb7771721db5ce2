package asr

import (
	gocontext "context"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testutil"
)

// clipNorm returns the global normalisation of the testdata LJSpeech clips,
// as training would estimate it.
func clipNorm(t testing.TB) features.Normalization {
	t.Helper()
	ext, err := features.NewExtractor(features.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	stats := features.NewStats(features.DefaultNumMels)
	for _, p := range testutil.LJSpeechClips(t) {
		a, err := features.DecodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		x, err := features.Resample(a.Samples, a.SampleRate, 16000)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ext.Compute(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := stats.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	n, err := stats.Normalization()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// randomModel saves a randomly initialised model of the preset as a
// one-checkpoint run directory and exports it as a model directory (float16
// when half is true), and returns both.
func randomModel(t testing.TB, preset string, seed int64, half bool) (runDir, modelDir string) {
	t.Helper()
	cfg, err := model.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, seed)
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbs(ctx, cfg, feats, lengths, false)
		return lp
	})
	if err != nil {
		t.Fatal(err)
	}
	// One run creates and initialises the variables.
	if _, err := exec.Exec(tensors.FromFlatDataAndDimensions(make([]float32, 8*cfg.InputDim), 1, 8, cfg.InputDim), []int32{8}); err != nil {
		t.Fatal(err)
	}
	weights, _ := ModelVariables(ctx)
	dir := t.TempDir()
	runDir = filepath.Join(dir, "run")
	m := &Manifest{
		Step: 1, Model: cfg, Parameters: cfg.NumParameters(), Features: features.DefaultConfig(),
		Normalization: clipNorm(t), Vocabulary: text.DefaultVocabulary(),
		Training: &TrainingState{TotalSteps: 1, Seed: seed},
	}
	if _, err := SaveCheckpoint(runDir, m, weights, nil); err != nil {
		t.Fatal(err)
	}
	modelDir = filepath.Join(dir, "model")
	if _, err := Export(runDir, modelDir, ExportOptions{Float16: half}); err != nil {
		t.Fatal(err)
	}
	return runDir, modelDir
}
