package checkpoint_test

import (
	gocontext "context"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testmodel"
)

// TestSaveLoadRebuildsTheSameModel saves a model's variables, opens the
// run directory, loads them into a fresh context and checks that the
// rebuilt model computes exactly what the saved one did.
func TestSaveLoadRebuildsTheSameModel(t *testing.T) {
	be, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	cfg, _ := model.Preset("tiny")
	data := make([]float32, 24*80)
	for i := range data {
		data[i] = float32(math.Sin(float64(i) * 0.37))
	}
	feats := tensors.FromFlatDataAndDimensions(data, 1, 24, 80)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(3))
	want := testmodel.Run(t, be, ctx, cfg, feats)

	run := t.TempDir()
	weights, state := checkpoint.ModelVariables(ctx)
	if len(weights) == 0 || len(state) == 0 {
		t.Fatalf("ModelVariables: %d weights, %d other variables", len(weights), len(state))
	}
	if _, ok := state["/#rngState"]; !ok {
		t.Errorf("the random-number state is not among the non-model variables: %v", slices.Sorted(maps.Keys(state)))
	}
	norm := testmodel.ClipNorm(t)
	m := &checkpoint.Manifest{
		Step: 7, Model: cfg, Parameters: model.CountParameters(ctx), Features: features.DefaultConfig(),
		Normalization: norm, Vocabulary: text.DefaultVocabulary(),
		Training: &checkpoint.TrainingState{TotalSteps: 100},
	}
	if _, err := checkpoint.Save(run, m, weights, state); err != nil {
		t.Fatal(err)
	}

	c, err := checkpoint.OpenModel(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Step != 7 || c.Manifest.Kind != checkpoint.KindCheckpoint || !c.HasState() {
		t.Fatalf("opened %+v", c.Manifest)
	}
	loader, err := c.NewLoader(false)
	if err != nil {
		t.Fatal(err)
	}
	ctx2 := context.New()
	ctx2.SetLoader(loader)
	got := testmodel.Run(t, be, ctx2.Reuse(), cfg, feats)
	if !slices.Equal(got, want) {
		t.Errorf("log-probs of the loaded model differ from the saved model's")
	}
	if m := loader.Missing(); len(m) > 0 {
		t.Errorf("Missing() = %v", m)
	}
	if u := loader.Unused(); len(u) > 0 {
		t.Errorf("Unused() = %v", u)
	}
}
