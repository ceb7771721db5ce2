package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// mapLoader gives a context the values of a map (checkpoint.Loader, which
// this package cannot import).
type mapLoader map[string]*tensors.Tensor

func (m mapLoader) LoadVariable(_ *context.Context, scope, name string) (*tensors.Tensor, bool) {
	v, ok := m[context.JoinScope(scope, name)]
	return v, ok
}

func (m mapLoader) DeleteVariable(*context.Context, string, string) error { return nil }

// TestDeepenKeepsTheFunction: a model deepened from 2 to 4 blocks gives the
// log-probs of the 2-block model it came from, whose weights (LayerNorms
// included) are random.
func TestDeepenKeepsTheFunction(t *testing.T) {
	backend := goBackend(t)
	cfg, err := Config{Preset: "tiny", NumLayers: 2, Dropout: new(float64)}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	feats := [][][]float32{randomFeatures(r, 48, cfg.InputDim), randomFeatures(r, 48, cfg.InputDim)}
	lengths := []int32{48, 37}

	ctx := context.New()
	want, _ := logProbsRunner(t, backend, ctx, cfg)(feats, lengths)
	vals := map[string]*tensors.Tensor{}
	for v := range ctx.IterVariables() {
		key := context.JoinScope(v.Scope(), v.Name())
		if !strings.HasPrefix(key, "/"+Scope+"/") {
			continue
		}
		val := v.MustValue()
		if strings.Contains(key, "layer_normalization") { // not the trivial 1 and 0
			val = tensors.FromShape(val.Shape())
			tensors.MutableFlatData(val, func(f []float32) {
				for i := range f {
					f[i] = 0.5 + r.Float32()
				}
			})
		}
		vals[key] = val
	}
	// The reference again, with the perturbed LayerNorms.
	ref := context.New()
	ref.SetLoader(mapLoader(clone(t, vals)))
	want, _ = logProbsRunner(t, backend, ref.Checked(false), cfg)(feats, lengths)

	orig := clone(t, vals)
	if err := Deepen(vals, 2, 4); err != nil {
		t.Fatal(err)
	}
	deep := cfg
	deep.NumLayers = 4
	dctx := context.New()
	dctx.SetLoader(mapLoader(vals))
	got, _ := logProbsRunner(t, backend, dctx.Checked(false), deep)(feats, lengths)
	worst := 0.0
	for b := range want {
		for i := 0; i < int(OutputLength(int(lengths[b]))); i++ {
			for k := range want[b][i] {
				worst = math.Max(worst, math.Abs(float64(got[b][i][k]-want[b][i][k])))
			}
		}
	}
	if worst > 1e-3 {
		t.Errorf("the deepened model's log-probs differ from the original's by up to %g", worst)
	}
	if n := countVars(vals, "/model/encoder/layer_03/"); n == 0 {
		t.Error("no weights for the new top block")
	}

	for _, tc := range []struct {
		from, to int
		want     string
	}{{2, 2, "need 1 <= from < to"}, {3, 4, "no block 2"}, {1, 3, "weights hold /model/encoder/layer_01"}} {
		if err := Deepen(clone(t, orig), tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Deepen(%d, %d): %v, want an error with %q", tc.from, tc.to, err, tc.want)
		}
	}
}

func clone(t *testing.T, m map[string]*tensors.Tensor) map[string]*tensors.Tensor {
	out := map[string]*tensors.Tensor{}
	for k, v := range m {
		c, err := v.LocalClone()
		if err != nil {
			t.Fatal(err)
		}
		out[k] = c
	}
	return out
}

func countVars(m map[string]*tensors.Tensor, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
