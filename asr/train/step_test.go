package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/backend"
)

// stepFixture is a tiny model on the pure-Go backend with a random batch.
type stepFixture struct {
	t    *testing.T
	ctx  *gcontext.Context
	exec *gcontext.Exec
	cfg  model.Config
	args []any
}

func newStepFixture(t *testing.T, o adamW) *stepFixture {
	t.Helper()
	be, _, err := backend.New(context.Background(), backend.SpecGo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := model.Preset("tiny")
	cfg.Dropout = new(0.0)
	ctx := gcontext.New()
	ctx.SetParam(gcontext.ParamInitialSeed, int64(5))
	// Create and initialise the model's variables with an inference graph
	// first, so their values before the step can be read.
	init, err := gcontext.NewExec(be, ctx, func(ctx *gcontext.Context, feats, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbs(ctx, cfg, feats, lengths, false)
		return lp
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const b, frames, labels = 2, 64, 8
	feats := make([]float32, b*frames*80)
	for i := range feats {
		feats[i] = float32(r.NormFloat64())
	}
	lab := make([]int32, b*labels)
	for i := range lab {
		lab[i] = int32(1 + r.IntN(28))
	}
	f := &stepFixture{t: t, ctx: ctx, cfg: cfg}
	f.args = []any{
		tensors.FromFlatDataAndDimensions(feats, b, frames, 80),
		tensors.FromFlatDataAndDimensions([]int32{frames, frames - 10}, b),
		tensors.FromFlatDataAndDimensions(lab, b, labels),
		tensors.FromFlatDataAndDimensions([]int32{labels, labels - 3}, b),
	}
	if _, err := init.Exec(f.args[0], f.args[1]); err != nil {
		t.Fatal(err)
	}
	if f.exec, err = gcontext.NewExec(be, ctx, stepGraph(cfg, model.PrecisionFloat32, o)); err != nil {
		t.Fatal(err)
	}
	return f
}

// values copies every variable of the context.
func (f *stepFixture) values() map[string][]float32 {
	out := map[string][]float32{}
	for v := range f.ctx.IterVariables() {
		if !v.HasValue() || v.DType().String() != "Float32" {
			continue
		}
		tensors.MustConstFlatData(v.MustValue(), func(x []float32) { out[gcontext.JoinScope(v.Scope(), v.Name())] = slices.Clone(x) })
	}
	return out
}

func (f *stepFixture) step(o adamW, step int64, lr float64) (loss, tokens, norm float64) {
	args := append(slices.Clone(f.args), o.hyper(step, lr)[0], o.hyper(step, lr)[1], o.hyper(step, lr)[2])
	out, err := f.exec.Exec(args...)
	if err != nil {
		f.t.Fatal(err)
	}
	return scalar(out[0]), scalar(out[1]), scalar(out[2])
}

// TestAdamWFirstStep checks the update rule where it has a closed form: at
// step 1 Adam's bias-corrected step is exactly sign(g) (|g| >> epsilon), so
// w1 = w0 - lr·(sign(g) + λ·w0) for matrices and w0 - lr·sign(g) for
// biases and normalisation parameters (no weight decay).
func TestAdamWFirstStep(t *testing.T) {
	o := adamW{beta1: 0.9, beta2: 0.98, epsilon: 1e-12, weightDecay: 0.1}
	f := newStepFixture(t, o)
	before := f.values()
	const lr = 0.01
	loss, tokens, norm := f.step(o, 1, lr)
	if tokens != 8+5 || !(loss > 0) || !(norm > 0) {
		t.Fatalf("loss %g, tokens %g, norm %g", loss, tokens, norm)
	}
	after := f.values()
	checked := map[int]int{}
	for name, w0 := range before {
		if !isModelPath(name) {
			continue
		}
		w1 := after[name]
		rank := 1
		for v := range f.ctx.IterVariables() {
			if gcontext.JoinScope(v.Scope(), v.Name()) == name {
				rank = v.Shape().Rank()
			}
		}
		for i := range w0 {
			delta := float64(w1[i]) - float64(w0[i])
			if rank >= 2 {
				delta += lr * 0.1 * float64(w0[i]) // undo the decay
			}
			if math.Abs(delta) < 1e-7 {
				continue // zero gradient (e.g. behind a ReLU that is off)
			}
			if math.Abs(math.Abs(delta)-lr) > 1e-6+1e-6*math.Abs(float64(w0[i])) {
				t.Fatalf("%s[%d]: w0 %g → w1 %g: step %g, want ±%g (rank %d)", name, i, w0[i], w1[i], delta, lr, rank)
			}
			checked[rank]++
		}
	}
	if checked[1] == 0 || checked[2] == 0 {
		t.Fatalf("checked %v values by rank", checked)
	}
	// The moments now hold (1-β1)·g and (1-β2)·g².
	for name, m := range after {
		if len(name) > 12 && name[:12] == "/optimizer/m" {
			v := after["/optimizer/v"+name[12:]]
			for i := range m {
				g := float64(m[i]) / 0.1
				if want := 0.02 * g * g; math.Abs(float64(v[i])-want) > 1e-5*math.Abs(want)+1e-30 {
					t.Fatalf("%s[%d]: m %g, v %g, want v %g", name, i, m[i], v[i], want)
				}
			}
		}
	}
}

func isModelPath(name string) bool { return len(name) > 7 && name[:7] == "/model/" }

// TestNonFiniteStepChangesNothing: a batch whose features hold NaN gives a
// NaN loss and gradient norm; the step must leave every variable as it was.
func TestNonFiniteStepChangesNothing(t *testing.T) {
	o := adamW{beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01, clipNorm: 1}
	f := newStepFixture(t, o)
	f.step(o, 1, 1e-3) // create the moments
	before := f.values()
	feats := f.args[0].(*tensors.Tensor)
	tensors.MustMutableFlatData(feats, func(x []float32) { x[100] = float32(math.NaN()) })
	_, _, norm := f.step(o, 2, 1e-3)
	if !math.IsNaN(norm) && !math.IsInf(norm, 0) {
		t.Fatalf("gradient norm %g with NaN input", norm)
	}
	if d, where := maxDiff(before, f.values()); d != 0 {
		t.Errorf("a non-finite step changed %s by %g", where, d)
	}
}

func TestClippingBoundsTheUpdateDirection(t *testing.T) {
	// With clipping the reported norm is the norm before clipping, and the
	// second moment grows by (1-β2)·(clipped g)²: its total is bounded by
	// (1-β2)·clip².
	o := adamW{beta1: 0.9, beta2: 0.98, epsilon: 1e-8, clipNorm: 1e-3}
	f := newStepFixture(t, o)
	_, _, norm := f.step(o, 1, 1e-3)
	if !(norm > 1e-3) {
		t.Fatalf("gradient norm %g; the test needs one above the clip", norm)
	}
	sum := 0.0
	for name, v := range f.values() {
		if len(name) > 12 && name[:12] == "/optimizer/v" {
			for _, x := range v {
				sum += float64(x)
			}
		}
	}
	if want := 0.02 * 1e-6; math.Abs(sum-want) > 1e-3*want {
		t.Errorf("sum of second moments %g, want (1-β2)·clip² = %g", sum, want)
	}
}
