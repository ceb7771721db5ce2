package train

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/backend"
)

// bf16Ops are the operations a bfloat16 training step may compute in
// bfloat16 (an input or the output in bfloat16): conversions, matrix
// products and their gradients' transposes, element-wise arithmetic,
// the logistic of the GLU gate and Swish, ReLU's maximum and its
// gradient's comparisons, selects and signs, and moves of data. Every one is
// defined on bfloat16 in XLA (StableHLO admits any floating-point type for
// them) and implemented for bfloat16 by GoMLX's pure-Go backend. No
// reduction (LayerNorm statistics, softmax, bias and kernel gradients),
// exponential, logarithm or square root may be.
var bf16Ops = []string{
	"ConvertDType", "DotGeneral", "Dot",
	"Add", "Sub", "Mul", "Neg", "Logistic", "Max",
	"Equal", "GreaterOrEqual", "GreaterThan", "LessOrEqual", "LessThan", "Where", "Sign",
	"Reshape", "Transpose", "Slice", "Pad", "Concatenate", "BroadcastInDim", "Constant",
}

// graphNode is what the tests need of a node once its graph is gone.
type graphNode struct {
	typ    string
	bf16   bool           // it computes in bfloat16: its output or an input is
	inputs []shapes.Shape // of the single-output inputs
	desc   string
}

// stepGraphNodes builds and runs the training step of tiny (dropout on) in
// precision on a small random batch with the pure-Go backend (and its
// fixes), and returns the nodes that the step's outputs and the new
// variable values depend on, and the backend's capabilities.
func stepGraphNodes(t *testing.T, precision model.Precision) (nodes []graphNode, cfg model.Config, caps backends.Capabilities) {
	t.Helper()
	be, _, err := backend.New(context.Background(), backend.SpecGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	caps = be.Capabilities()
	cfg, _ = model.Preset("tiny")
	o := adamW{beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 1e-3, clipNorm: 1}
	ctx := gcontext.New()
	ctx.SetParam(gcontext.ParamInitialSeed, int64(7))
	var roots []*graph.Node
	exec, err := gcontext.NewExec(be, ctx, func(ctx *gcontext.Context, in []*graph.Node) []*graph.Node {
		out := stepGraph(cfg, precision, o)(ctx, in)
		g := out[0].Graph()
		roots = slices.Clone(out)
		for v := range ctx.IterVariables() {
			if v.InUseByGraph(g) {
				roots = append(roots, v.ValueGraph(g))
			}
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	const b, frames, labels = 2, 48, 6
	r := rand.New(rand.NewPCG(3, 4))
	feats := make([]float32, b*frames*cfg.InputDim)
	for i := range feats {
		feats[i] = float32(r.NormFloat64())
	}
	lab := make([]int32, b*labels)
	for i := range lab {
		lab[i] = int32(1 + r.IntN(cfg.VocabSize-1))
	}
	args := []any{
		tensors.FromFlatDataAndDimensions(feats, b, frames, cfg.InputDim),
		tensors.FromFlatDataAndDimensions([]int32{frames, frames - 9}, b),
		tensors.FromFlatDataAndDimensions(lab, b, labels),
		tensors.FromFlatDataAndDimensions([]int32{labels, labels - 2}, b),
	}
	for _, h := range o.hyper(1, 1e-3) {
		args = append(args, h)
	}
	out, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("%s step: %v", precision, err)
	}
	if loss := out[0].Value().(float32); !(loss > 0) {
		t.Errorf("%s step: loss %v", precision, loss)
	}
	release(out)

	seen := map[*graph.Node]bool{}
	var walk func(n *graph.Node)
	walk = func(n *graph.Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		gn := graphNode{typ: n.Type().String()}
		if n.NumOutputs() == 1 {
			gn.bf16 = n.DType() == dtypes.BFloat16
			gn.desc = n.Type().String() + " " + n.Shape().String()
		}
		for _, in := range n.Inputs() {
			if in.NumOutputs() == 1 {
				gn.bf16 = gn.bf16 || in.DType() == dtypes.BFloat16
				gn.inputs = append(gn.inputs, in.Shape())
				gn.desc += " " + in.Shape().String()
			}
		}
		nodes = append(nodes, gn)
		for _, in := range n.Inputs() {
			walk(in)
		}
	}
	for _, n := range roots {
		walk(n)
	}
	return nodes, cfg, caps
}

// TestBFloat16StepGraphOps inspects the whole bfloat16 training step (the
// model, the CTC loss, the gradients and the AdamW update): only the
// operations of bf16Ops compute in bfloat16, the matrix products of the
// encoder do, and the only float32 matrix products are those of the output
// layer and the loss (which involve the vocabulary). Every variable and
// every input of the loss stays float32. The float32 step has no
// bfloat16 at all.
func TestBFloat16StepGraphOps(t *testing.T) {
	nodes, _, _ := stepGraphNodes(t, model.PrecisionFloat32)
	for _, n := range nodes {
		if n.bf16 {
			t.Fatalf("float32 step computes in bfloat16: %s", n.desc)
		}
	}

	nodes, cfg, caps := stepGraphNodes(t, model.PrecisionBFloat16)
	used := map[string]int{}
	lowDots, fullDots := 0, 0
	for _, n := range nodes {
		typ := n.typ
		isDot := typ == "DotGeneral" || typ == "Dot"
		if n.bf16 {
			used[typ]++
			if !slices.Contains(bf16Ops, typ) {
				t.Errorf("computes in bfloat16: %s", n.desc)
			}
			if isDot {
				lowDots++
			}
			continue
		}
		if isDot {
			fullDots++
			vocab := false
			for _, in := range n.inputs {
				vocab = vocab || slices.Contains(in.Dimensions, cfg.VocabSize)
			}
			if !vocab {
				t.Errorf("a float32 matrix product outside the output layer and the loss: %s", n.desc)
			}
		}
	}
	t.Logf("bfloat16 operations: %v; matrix products: %d in bfloat16, %d in float32", used, lowDots, fullDots)
	// Forward and two gradients of each of the encoder's 6 projections per
	// layer, the 2 attention products per layer and the 2 subsampling stages.
	if want := 3 * (6*cfg.NumLayers + 2*cfg.NumLayers + 2); lowDots < want {
		t.Errorf("%d matrix products in bfloat16, want at least %d", lowDots, want)
	}
	for _, typ := range []string{"ReduceSum", "ReduceMax", "Exp", "Log", "Sqrt"} {
		if used[typ] > 0 {
			t.Errorf("%s in bfloat16", typ)
		}
	}
	// The pure-Go backend (with internal/gomlxfix's Pad) declares every
	// one of them and bfloat16, and ran the step above; for XLA see
	// TestBFloat16OpsOnXLA.
	if !caps.DTypes[dtypes.BFloat16] {
		t.Error("the pure-Go backend does not declare bfloat16")
	}
	for typ := range used {
		if !capable(caps.Operations, typ) {
			t.Errorf("the pure-Go backend does not declare %s", typ)
		}
	}
}

// capable reports whether a capability map (keyed by backends.OpType)
// holds the operation named typ.
func capable[K interface {
	comparable
	String() string
}](ops map[K]bool, typ string) bool {
	for op, ok := range ops {
		if ok && strings.TrimPrefix(op.String(), "OpType") == typ {
			return true
		}
	}
	return false
}
