package gomlxfix

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// fixedGo returns the fixed pure-Go backend, shared by the tests.
func fixedGo(tb testing.TB) backends.Backend {
	tb.Helper()
	b, err := NewGoBackend("ops_sequential")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// arr is a dense row-major float64 array used by the reference
// implementations in the tests (independent of GoMLX).
type arr struct {
	dims []int
	data []float64
}

func newArr(dims ...int) arr {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return arr{dims: slices.Clone(dims), data: make([]float64, n)}
}

func randArr(rng *rand.Rand, dims ...int) arr {
	a := newArr(dims...)
	for i := range a.data {
		a.data[i] = rng.Float64()*2 - 1
	}
	return a
}

func (a arr) offset(idx []int) int {
	off := 0
	for i, d := range a.dims {
		off = off*d + idx[i]
	}
	return off
}

func (a arr) at(idx ...int) float64 { return a.data[a.offset(idx)] }

func (a arr) set(v float64, idx ...int) { a.data[a.offset(idx)] = v }

func (a arr) tensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(slices.Clone(a.data), a.dims...)
}

// forEach calls fn with every multi-index of dims in row-major order.
func forEach(dims []int, fn func(idx []int)) {
	for _, d := range dims {
		if d == 0 {
			return
		}
	}
	idx := make([]int, len(dims))
	for {
		fn(idx)
		i := len(dims) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

func flat64(tb testing.TB, t *tensors.Tensor) []float64 {
	tb.Helper()
	v, err := tensors.CopyFlatData[float64](t)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// run1 builds and runs a one-output graph function on backend b.
func run1(tb testing.TB, b backends.Backend, fn any, args ...any) *tensors.Tensor {
	tb.Helper()
	e, err := NewExecAny(b, fn)
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Finalize()
	out, err := e.Exec(args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out[0]
}

func assertClose(tb testing.TB, what string, got, want []float64, tol float64) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(got[i]) != math.IsNaN(want[i]) || d > tol*(1+math.Abs(want[i])) {
			if d > worst || at < 0 {
				worst, at = d, i
			}
		}
	}
	if at >= 0 {
		tb.Errorf("%s: element %d = %g, want %g (|diff| %g > tol %g)", what, at, got[at], want[at], worst, tol)
	}
}

// checkGradient compares the gradient of sum(w * f(x)) wrt x (w a fixed
// random weighting, so every output element is tested) with central finite
// differences of f, both computed on backend b in float64.
func checkGradient(t *testing.T, b backends.Backend, f func(x *Node) *Node, x arr, tol float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	var w []float64
	loss := func(x *Node) *Node {
		out := f(x)
		if w == nil {
			w = make([]float64, out.Shape().Size())
			for i := range w {
				w[i] = rng.Float64()*2 - 1
			}
		}
		wt := Const(x.Graph(), tensors.FromFlatDataAndDimensions(w, out.Shape().Dimensions...))
		return ReduceAllSum(Mul(out, wt))
	}
	grad := flat64(t, run1(t, b, func(x *Node) *Node { return Gradient(loss(x), x)[0] }, x.tensor()))

	fwd, err := NewExec(b, loss)
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Finalize()
	eval := func(v []float64) float64 {
		out, err := fwd.Exec(tensors.FromFlatDataAndDimensions(v, x.dims...))
		if err != nil {
			t.Fatal(err)
		}
		return flat64(t, out[0])[0]
	}
	const eps = 1e-6
	num := make([]float64, len(x.data))
	for i := range x.data {
		v := slices.Clone(x.data)
		v[i] = x.data[i] + eps
		up := eval(v)
		v[i] = x.data[i] - eps
		num[i] = (up - eval(v)) / (2 * eps)
	}
	assertClose(t, "gradient vs finite differences", grad, num, tol)
}
