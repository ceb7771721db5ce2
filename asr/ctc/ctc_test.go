package ctc

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// goBackend is the project's pure-Go backend (with the gomlxfix fixes).
func goBackend(tb testing.TB) backends.Backend {
	tb.Helper()
	b, _, err := backend.New(context.Background(), backend.SpecGo)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// example is one utterance: logits [T][V], labels.
type example struct {
	logits [][]float64
	labels []int
}

// batchResult holds Loss and its gradient wrt the logits for a batch.
type batchResult struct {
	loss []float64
	grad [][][]float64 // [B][T][V]
}

// runBatch pads examples into a batch (frames padded with pad, labels with
// -1), runs Loss and its gradient on b, and returns them as float64.
func runBatch(t *testing.T, b backends.Backend, dtype dtypes.DType, exs []example, opts Options, pad float64, extraFrames int) batchResult {
	t.Helper()
	batch := len(exs)
	frames, labels := 0, 1
	classes := len(exs[0].logits[0])
	for _, e := range exs {
		frames = max(frames, len(e.logits))
		labels = max(labels, len(e.labels))
	}
	frames += extraFrames
	flat := make([]float64, batch*frames*classes)
	inLen := make([]int32, batch)
	labs := make([]int32, batch*labels)
	labLen := make([]int32, batch)
	for i, e := range exs {
		inLen[i] = int32(len(e.logits))
		labLen[i] = int32(len(e.labels))
		for tt := range frames {
			for k := range classes {
				v := pad
				if tt < len(e.logits) {
					v = e.logits[tt][k]
				}
				flat[(i*frames+tt)*classes+k] = v
			}
		}
		for j := range labels {
			labs[i*labels+j] = -1
			if j < len(e.labels) {
				labs[i*labels+j] = int32(e.labels[j])
			}
		}
	}
	var logits *tensors.Tensor
	switch dtype {
	case dtypes.Float64:
		logits = tensors.FromFlatDataAndDimensions(flat, batch, frames, classes)
	case dtypes.Float32:
		f32 := make([]float32, len(flat))
		for i, v := range flat {
			f32[i] = float32(v)
		}
		logits = tensors.FromFlatDataAndDimensions(f32, batch, frames, classes)
	default:
		t.Fatalf("dtype %s", dtype)
	}
	exec, err := NewExec(b, func(logits, inLen, labs, labLen *Node) (*Node, *Node) {
		loss := Loss(logits, inLen, labs, labLen, opts)
		grad := Gradient(ReduceAllSum(loss), logits)[0]
		return ConvertDType(loss, dtypes.Float64), ConvertDType(grad, dtypes.Float64)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(logits,
		tensors.FromFlatDataAndDimensions(inLen, batch),
		tensors.FromFlatDataAndDimensions(labs, batch, labels),
		tensors.FromFlatDataAndDimensions(labLen, batch))
	if err != nil {
		t.Fatal(err)
	}
	res := batchResult{loss: tensors.MustCopyFlatData[float64](out[0])}
	g := tensors.MustCopyFlatData[float64](out[1])
	for i := range batch {
		var ex [][]float64
		for tt := range frames {
			ex = append(ex, g[(i*frames+tt)*classes:(i*frames+tt+1)*classes])
		}
		res.grad = append(res.grad, ex)
	}
	return res
}

// referenceFile mirrors testdata/reference/ctc_reference.json.
type referenceFile struct {
	Cases []struct {
		Name                          string      `json:"name"`
		Blank                         int         `json:"blank"`
		Labels                        []int       `json:"labels"`
		Probs                         [][]float64 `json:"probs"`
		Logits                        any         `json:"logits"`
		ExpectedLoss                  float64     `json:"expected_loss"`
		ExpectedGradWrtLogits         [][]float64 `json:"expected_grad_wrt_logits"`
		RecomputedGradWrtLogitsFloat6 [][]float64 `json:"recomputed_grad_wrt_logits_float64"`
	} `json:"cases"`
}

type refCase struct {
	name   string
	blank  int
	ex     example
	loss   float64
	grad   [][]float64 // nil when the source gives none
	source string
}

func loadReference(t *testing.T) map[string]refCase {
	t.Helper()
	data, err := os.ReadFile(testutil.Path(t, "reference", "ctc_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f referenceFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]refCase{}
	for _, c := range f.Cases {
		rc := refCase{name: c.Name, blank: c.Blank, loss: c.ExpectedLoss}
		switch l := c.Logits.(type) {
		case string: // "ln(probs)": computed in float32, as the TF test does.
			for _, row := range c.Probs {
				var lr []float64
				for _, p := range row {
					lr = append(lr, float64(float32(math.Log(float64(float32(p))))))
				}
				rc.ex.logits = append(rc.ex.logits, lr)
			}
			rc.grad = c.ExpectedGradWrtLogits
		case []any:
			for _, row := range l {
				var lr []float64
				for _, v := range row.([]any) {
					lr = append(lr, v.(float64))
				}
				rc.ex.logits = append(rc.ex.logits, lr)
			}
			rc.grad = c.RecomputedGradWrtLogitsFloat6
		default:
			continue // the batch case: built from the others below
		}
		rc.ex.labels = c.Labels
		out[c.Name] = rc
	}
	if len(out) != 6 {
		t.Fatalf("loaded %d reference cases, want 6", len(out))
	}
	return out
}

func assertNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.7g, want %.7g (tolerance %g)", what, got, want, tol)
	}
}

func assertGradNear(t *testing.T, what string, got, want [][]float64, tol float64) {
	t.Helper()
	for tt := range want {
		for k := range want[tt] {
			if g := got[tt][k]; math.IsNaN(g) || math.Abs(g-want[tt][k]) > tol {
				t.Errorf("%s[t=%d][k=%d] = %.7g, want %.7g", what, tt, k, g, want[tt][k])
				return
			}
		}
	}
}

func TestReferenceImplementationMatchesPublishedValues(t *testing.T) {
	for name, c := range loadReference(t) {
		t.Run(name, func(t *testing.T) {
			loss, grad, err := Reference(c.ex.logits, c.ex.labels, c.blank)
			if err != nil {
				t.Fatal(err)
			}
			assertNear(t, "loss", loss, c.loss, 1e-5)
			if c.grad != nil {
				assertGradNear(t, "grad", grad, c.grad, 1e-5)
			}
		})
	}
}

// TestLossMatchesTensorFlowTestBasic feeds TF's testBasic exactly as TF does:
// both sequences in one batch of 7 frames whose last two frames are NaN, with
// sequence lengths 5, blank 5.
func TestLossMatchesTensorFlowTestBasic(t *testing.T) {
	ref := loadReference(t)
	b := goBackend(t)
	c0, c1 := ref["tf_testBasic_batch0"], ref["tf_testBasic_batch1"]
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		t.Run(dtype.String(), func(t *testing.T) {
			res := runBatch(t, b, dtype, []example{c0.ex, c1.ex}, Options{Blank: 5}, math.NaN(), 2)
			assertNear(t, "loss[0]", res.loss[0], 3.34211, 1e-4)
			assertNear(t, "loss[1]", res.loss[1], 5.42262, 1e-4)
			assertGradNear(t, "grad[0]", res.grad[0], c0.grad, 1e-4)
			assertGradNear(t, "grad[1]", res.grad[1], c1.grad, 1e-4)
			for i := range 2 {
				for tt := 5; tt < 7; tt++ {
					for k, g := range res.grad[i][tt] {
						if g != 0 {
							t.Errorf("grad[%d][t=%d][%d] = %g on a NaN padded frame, want 0", i, tt, k, g)
						}
					}
				}
			}
		})
	}
}

func TestLossMatchesWarpCTC(t *testing.T) {
	ref := loadReference(t)
	b := goBackend(t)
	for _, name := range []string{"warpctc_small_test", "warpctc_tutorial_1", "warpctc_tutorial_2", "warpctc_tutorial_3"} {
		c := ref[name]
		t.Run(name, func(t *testing.T) {
			res := runBatch(t, b, dtypes.Float32, []example{c.ex}, Options{Blank: c.blank}, 0, 0)
			assertNear(t, "loss", res.loss[0], c.loss, 1e-4)
			if c.grad != nil {
				assertGradNear(t, "grad", res.grad[0], c.grad, 1e-4)
			}
		})
	}
	// The tutorial's minibatch: sizes {1, 3, 3}; the short one is padded
	// (here with +Inf, which must not matter).
	t.Run("warpctc_tutorial_batch", func(t *testing.T) {
		exs := []example{ref["warpctc_tutorial_1"].ex, ref["warpctc_tutorial_2"].ex, ref["warpctc_tutorial_3"].ex}
		res := runBatch(t, b, dtypes.Float32, exs, Options{}, math.Inf(1), 0)
		for i, want := range []float64{1.6094379425049, 7.355742931366, 4.938850402832} {
			assertNear(t, fmt.Sprintf("loss[%d]", i), res.loss[i], want, 1e-4)
		}
		for tt := 1; tt < 3; tt++ {
			if slices.ContainsFunc(res.grad[0][tt], func(g float64) bool { return g != 0 }) {
				t.Errorf("padded frame %d has gradient %v", tt, res.grad[0][tt])
			}
		}
	})
}

// bruteForce sums the probability of every path of T symbols that collapses
// (merge repeats, drop blanks) to labels: V^T paths, fine for T <= 6, V <= 4.
func bruteForce(logits [][]float64, labels []int, blank int) float64 {
	frames, classes := len(logits), len(logits[0])
	logProbs := make([][]float64, frames)
	for t, row := range logits {
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(v)
		}
		for _, v := range row {
			logProbs[t] = append(logProbs[t], v-math.Log(sum))
		}
	}
	total := 0.0
	path := make([]int, frames)
	var rec func(t int)
	rec = func(t int) {
		if t == frames {
			var out []int
			prev := -1
			for _, k := range path {
				if k != prev && k != blank {
					out = append(out, k)
				}
				prev = k
			}
			if slices.Equal(out, labels) {
				lp := 0.0
				for tt, k := range path {
					lp += logProbs[tt][k]
				}
				total += math.Exp(lp)
			}
			return
		}
		for k := range classes {
			path[t] = k
			rec(t + 1)
		}
	}
	rec(0)
	return -math.Log(total)
}

// randomExamples draws a batch of tiny examples: T <= 6, V <= 4, labels
// with frequent repeats, some empty, some impossible to align.
func randomExamples(rng *rand.Rand, batch, classes, blank int) []example {
	var exs []example
	for range batch {
		frames := 1 + rng.IntN(6)
		e := example{}
		for range frames {
			row := make([]float64, classes)
			for k := range row {
				row[k] = rng.NormFloat64() * 2
			}
			e.logits = append(e.logits, row)
		}
		for range rng.IntN(5) {
			l := rng.IntN(classes - 1)
			if l >= blank {
				l++
			}
			e.labels = append(e.labels, l)
		}
		exs = append(exs, e)
	}
	return exs
}

func TestLossMatchesBruteForceEnumeration(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(42, 1))
	impossible := 0
	for trial := range 12 {
		classes := 2 + rng.IntN(3)
		blank := 0
		if trial%3 == 2 {
			blank = classes - 1
		}
		exs := randomExamples(rng, 5, classes, blank)
		res := runBatch(t, b, dtypes.Float64, exs, Options{Blank: blank}, math.NaN(), rng.IntN(2))
		for i, e := range exs {
			want := bruteForce(e.logits, e.labels, blank)
			got := res.loss[i]
			if math.IsInf(want, 1) {
				impossible++
				if got != ImpossibleLoss || slices.ContainsFunc(slices.Concat(res.grad[i]...), func(g float64) bool { return g != 0 }) {
					t.Errorf("trial %d ex %d (impossible): loss %g, gradient %v", trial, i, got, res.grad[i])
				}
				continue
			}
			if math.Abs(got-want) > 1e-9*(1+want) {
				t.Errorf("trial %d ex %d (T=%d, labels %v, blank %d): loss %.12g, brute force %.12g",
					trial, i, len(e.logits), e.labels, blank, got, want)
			}
			_, grad, err := Reference(e.logits, e.labels, blank)
			if err != nil {
				t.Fatal(err)
			}
			assertGradNear(t, fmt.Sprintf("trial %d ex %d grad vs reference", trial, i), res.grad[i], grad, 1e-9)
		}
	}
	if impossible == 0 {
		t.Error("no impossible example was drawn: the random cases do not cover them")
	}
}

func TestReferenceMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 40 {
		classes := 2 + rng.IntN(3)
		for _, e := range randomExamples(rng, 1, classes, 0) {
			want := bruteForce(e.logits, e.labels, 0)
			got, _, err := Reference(e.logits, e.labels, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !(math.IsInf(want, 1) && math.IsInf(got, 1)) && math.Abs(got-want) > 1e-9*(1+want) {
				t.Errorf("T=%d labels %v: reference %g, brute force %g", len(e.logits), e.labels, got, want)
			}
		}
	}
}

// TestGradientMatchesFiniteDifferences differentiates the graph's own loss
// numerically (float64), independent of any reference.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(3, 9))
	exs := []example{
		{labels: []int{1, 1, 2}},
		{labels: []int{3}},
		{labels: nil},
	}
	for i, frames := range []int{6, 4, 3} {
		for range frames {
			row := make([]float64, 4)
			for k := range row {
				row[k] = rng.NormFloat64()
			}
			exs[i].logits = append(exs[i].logits, row)
		}
	}
	res := runBatch(t, b, dtypes.Float64, exs, Options{}, 0, 0)
	const eps = 1e-6
	for i, e := range exs {
		for tt := range e.logits {
			for k := range e.logits[tt] {
				orig := e.logits[tt][k]
				e.logits[tt][k] = orig + eps
				up := runBatch(t, b, dtypes.Float64, exs, Options{}, 0, 0).loss[i]
				e.logits[tt][k] = orig - eps
				down := runBatch(t, b, dtypes.Float64, exs, Options{}, 0, 0).loss[i]
				e.logits[tt][k] = orig
				num := (up - down) / (2 * eps)
				if math.Abs(num-res.grad[i][tt][k]) > 1e-6 {
					t.Errorf("ex %d t=%d k=%d: gradient %g, finite differences %g", i, tt, k, res.grad[i][tt][k], num)
				}
			}
		}
	}
}

func TestImpossibleAndEdgeCases(t *testing.T) {
	b := goBackend(t)
	row := func(v ...float64) []float64 { return v }
	two := [][]float64{row(0.1, 0.5, -0.2), row(0.3, -0.4, 0.2)}
	exs := []example{
		{logits: two, labels: []int{1, 1}},    // needs 3 frames: impossible
		{logits: two, labels: []int{1, 2, 1}}, // longer than T: impossible
		{logits: two, labels: nil},            // only blanks
		{logits: two, labels: []int{2, 1}},    // exactly T frames
	}
	for _, zeroInf := range []bool{false, true} {
		res := runBatch(t, b, dtypes.Float32, exs, Options{ZeroInfinity: zeroInf}, math.NaN(), 1)
		want := float64(float32(ImpossibleLoss)) // float32 logits: float32 loss
		if zeroInf {
			want = 0
		}
		for i := range 2 {
			if res.loss[i] != want {
				t.Errorf("ZeroInfinity=%v: impossible loss[%d] = %g, want %g", zeroInf, i, res.loss[i], want)
			}
			for _, g := range slices.Concat(res.grad[i]...) {
				if g != 0 {
					t.Fatalf("impossible example %d has gradient %v", i, res.grad[i])
				}
			}
		}
		for i := 2; i < 4; i++ {
			refLoss, refGrad, err := Reference(two, exs[i].labels, 0)
			if err != nil {
				t.Fatal(err)
			}
			assertNear(t, fmt.Sprintf("loss[%d]", i), res.loss[i], refLoss, 1e-5)
			assertGradNear(t, fmt.Sprintf("grad[%d]", i), res.grad[i], refGrad, 1e-5)
		}
	}
}

func TestZeroLengthInput(t *testing.T) {
	b := goBackend(t)
	g := NewExecOrFail(t, b)
	defer g.Finalize()
	logits := tensors.FromFlatDataAndDimensions([]float32{math.Float32frombits(0x7fc00000), 1, 2, 3}, 2, 1, 2)
	out, err := g.Exec(logits, []int32{0, 0}, [][]int32{{1}, {1}}, []int32{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Value().([]float32); got[0] != 0 || got[1] != ImpossibleLoss {
		t.Errorf("losses %v, want [0 %g]", got, ImpossibleLoss)
	}
}

// NewExecOrFail builds an Exec of Loss with default options.
func NewExecOrFail(t *testing.T, b backends.Backend) *Exec {
	t.Helper()
	e, err := NewExec(b, func(logits, inLen, labels, labLen *Node) *Node {
		return Loss(logits, inLen, labels, labLen, Options{})
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestInvalidShapesAreErrors(t *testing.T) {
	b := goBackend(t)
	tests := map[string][]any{
		"rank-2 logits":      {[][]float32{{1, 2}}, []int32{1}, [][]int32{{1}}, []int32{1}},
		"labels batch":       {[][][]float32{{{1, 2}}}, []int32{1}, [][]int32{{1}, {1}}, []int32{1}},
		"float labels":       {[][][]float32{{{1, 2}}}, []int32{1}, [][]float32{{1}}, []int32{1}},
		"lengths rank":       {[][][]float32{{{1, 2}}}, [][]int32{{1}}, [][]int32{{1}}, []int32{1}},
		"label lengths size": {[][][]float32{{{1, 2}}}, []int32{1}, [][]int32{{1}}, []int32{1, 2}},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			e := NewExecOrFail(t, b)
			defer e.Finalize()
			if _, err := e.Exec(args...); err == nil {
				t.Error("no error")
			}
		})
	}
	t.Run("blank out of range", func(t *testing.T) {
		e, err := NewExec(b, func(logits, inLen, labels, labLen *Node) *Node {
			return Loss(logits, inLen, labels, labLen, Options{Blank: 2})
		})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Finalize()
		if _, err := e.Exec([][][]float32{{{1, 2}}}, []int32{1}, [][]int32{{1}}, []int32{1}); err == nil {
			t.Error("no error")
		}
	})
}

func TestReferenceRejectsBadInput(t *testing.T) {
	ok := [][]float64{{0, 0, 0}}
	for name, call := range map[string]func() error{
		"no frames":     func() error { _, _, err := Reference(nil, nil, 0); return err },
		"blank range":   func() error { _, _, err := Reference(ok, nil, 3); return err },
		"label range":   func() error { _, _, err := Reference(ok, []int{3}, 0); return err },
		"label blank":   func() error { _, _, err := Reference(ok, []int{0}, 0); return err },
		"ragged frames": func() error { _, _, err := Reference([][]float64{{0, 0, 0}, {0}}, nil, 0); return err },
	} {
		if call() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestGraphGrowsLinearlyInFrames guards the unrolled recursion's size: the
// forward and backward recursions cost about 42 graph nodes per frame
// together, and the gradient adds no per-frame nodes.
func TestGraphGrowsLinearlyInFrames(t *testing.T) {
	b := goBackend(t)
	count := func(frames int) int {
		g := NewGraph(b, "ctc-size")
		defer g.Finalize()
		x := Parameter(g, "logits", shapes.Make(dtypes.Float32, 2, frames, 5))
		loss := ReduceAllSum(Loss(x, Parameter(g, "il", shapes.Make(dtypes.Int32, 2)),
			Parameter(g, "lb", shapes.Make(dtypes.Int32, 2, 3)), Parameter(g, "ll", shapes.Make(dtypes.Int32, 2)), Options{}))
		Gradient(loss, x)
		return len(g.Nodes())
	}
	perFrame := float64(count(60)-count(20)) / 40
	if perFrame > 45 {
		t.Errorf("%.1f graph nodes per frame, want at most 45", perFrame)
	}
}
