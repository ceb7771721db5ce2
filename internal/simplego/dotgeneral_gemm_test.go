package simplego

// asrkit: tests of the DotGeneral that runs on internal/gemm
// (dotgeneral_gemm.go), against a naive float64 evaluation.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

type dotCase struct {
	name                  string
	lhsDims, rhsDims      []int
	lhsContract, lhsBatch []int
	rhsContract, rhsBatch []int
}

var dotCases = []dotCase{
	{"matmul", []int{13, 37}, []int{37, 21}, []int{1}, nil, []int{0}, nil},
	{"lhs transposed", []int{37, 13}, []int{37, 21}, []int{0}, nil, []int{0}, nil},
	{"rhs transposed", []int{13, 37}, []int{21, 37}, []int{1}, nil, []int{1}, nil},
	{"both transposed", []int{37, 13}, []int{21, 37}, []int{0}, nil, []int{1}, nil},
	{"batched", []int{3, 7, 9}, []int{3, 9, 17}, []int{2}, []int{0}, []int{1}, []int{0}},
	{"batched, large (parallel)", []int{3, 70, 130}, []int{3, 130, 50}, []int{2}, []int{0}, []int{1}, []int{0}},
	{"attention scores", []int{2, 19, 3, 8}, []int{2, 23, 3, 8}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
	{"batch axes not leading", []int{7, 2, 8}, []int{8, 2, 9}, []int{2}, []int{1}, []int{0}, []int{1}},
	{"two batch axes", []int{2, 3, 7, 8}, []int{2, 3, 8, 9}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}},
	{"batch axes swapped", []int{2, 3, 7, 8}, []int{3, 2, 8, 9}, []int{3}, []int{0, 1}, []int{2}, []int{1, 0}},
	{"contracting axes out of order", []int{2, 3, 4, 5}, []int{5, 2, 3, 6}, []int{3, 1}, []int{0}, []int{0, 2}, []int{1}},
	{"two contracting axes in order", []int{6, 4, 5}, []int{4, 5, 7}, []int{1, 2}, nil, []int{0, 1}, nil},
	{"cross axes split by contracting", []int{3, 4, 5}, []int{4, 6}, []int{1}, nil, []int{0}, nil},
	{"vector dot vector", []int{33}, []int{33}, []int{0}, nil, []int{0}, nil},
	{"matrix x vector", []int{17, 33}, []int{33}, []int{1}, nil, []int{0}, nil},
	{"outer product (no contraction)", []int{5, 1}, []int{1, 7}, []int{1}, nil, []int{0}, nil},
	{"wide, several depth panels", []int{2, 600}, []int{600, 1100}, []int{1}, nil, []int{0}, nil},
}

// naiveDotGeneral evaluates DotGeneral in float64 by definition: output
// axes are the batch axes, then lhs's cross axes, then rhs's.
func naiveDotGeneral(c dotCase, lhs, rhs []float64) (dims []int, out []float64) {
	axisKind := func(rank int, contract, batch []int) []int {
		kind := make([]int, rank) // 0 cross, 1 contracting, 2 batch
		for _, a := range contract {
			kind[a] = 1
		}
		for _, a := range batch {
			kind[a] = 2
		}
		return kind
	}
	lk := axisKind(len(c.lhsDims), c.lhsContract, c.lhsBatch)
	rk := axisKind(len(c.rhsDims), c.rhsContract, c.rhsBatch)
	var batchDims, lhsCross, rhsCross, lhsCrossAxes, rhsCrossAxes, contractDims []int
	for _, a := range c.lhsBatch {
		batchDims = append(batchDims, c.lhsDims[a])
	}
	for a, k := range lk {
		if k == 0 {
			lhsCross = append(lhsCross, c.lhsDims[a])
			lhsCrossAxes = append(lhsCrossAxes, a)
		}
	}
	for a, k := range rk {
		if k == 0 {
			rhsCross = append(rhsCross, c.rhsDims[a])
			rhsCrossAxes = append(rhsCrossAxes, a)
		}
	}
	for _, a := range c.lhsContract {
		contractDims = append(contractDims, c.lhsDims[a])
	}
	dims = slices.Concat(batchDims, lhsCross, rhsCross)
	flat := func(dims, idx []int) int {
		f := 0
		for i, d := range dims {
			f = f*d + idx[i]
		}
		return f
	}
	size := func(dims []int) int {
		s := 1
		for _, d := range dims {
			s *= d
		}
		return s
	}
	unflat := func(dims []int, f int) []int {
		idx := make([]int, len(dims))
		for i := len(dims) - 1; i >= 0; i-- {
			idx[i] = f % dims[i]
			f /= dims[i]
		}
		return idx
	}
	out = make([]float64, size(dims))
	li := make([]int, len(c.lhsDims))
	ri := make([]int, len(c.rhsDims))
	for o := range out {
		oi := unflat(dims, o)
		nb, nl := len(batchDims), len(lhsCross)
		for i, a := range c.lhsBatch {
			li[a] = oi[i]
		}
		for i, a := range c.rhsBatch {
			ri[a] = oi[i]
		}
		for i, a := range lhsCrossAxes {
			li[a] = oi[nb+i]
		}
		for i, a := range rhsCrossAxes {
			ri[a] = oi[nb+nl+i]
		}
		var sum float64
		for k := range size(contractDims) {
			ki := unflat(contractDims, k)
			for i, a := range c.lhsContract {
				li[a] = ki[i]
			}
			for i, a := range c.rhsContract {
				ri[a] = ki[i]
			}
			sum += lhs[flat(c.lhsDims, li)] * rhs[flat(c.rhsDims, ri)]
		}
		out[o] = sum
	}
	return dims, out
}

func newTestBackend(t *testing.T, config string) backends.Backend {
	t.Helper()
	b, err := New(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

func randomValues(r *rand.Rand, dims []int) []float64 {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// TestDotGeneralGemm compares float32 and bfloat16 DotGeneral on layouts
// the strided kernel reads directly and layouts that are transposed first,
// for both the default (parallel) and the single-goroutine configuration.
func TestDotGeneralGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, config := range []string{"ops_sequential", "ops_sequential,parallelism=0"} {
		backend := newTestBackend(t, config)
		for _, c := range dotCases {
			for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
				t.Run(fmt.Sprintf("%s/%s/%s", config, c.name, dtype), func(t *testing.T) {
					lhs, rhs := randomValues(r, c.lhsDims), randomValues(r, c.rhsDims)
					lt, rt := tensorOf(dtype, lhs, c.lhsDims), tensorOf(dtype, rhs, c.rhsDims)
					// The reference sees the values the backend sees (rounded to the dtype).
					lhs, rhs = valuesOf(lt), valuesOf(rt)
					wantDims, want := naiveDotGeneral(c, lhs, rhs)
					exec, err := graph.NewExec(backend, func(l, r *graph.Node) *graph.Node {
						return graph.DotGeneral(l, c.lhsContract, c.lhsBatch, r, c.rhsContract, c.rhsBatch)
					})
					if err != nil {
						t.Fatal(err)
					}
					defer exec.Finalize()
					out, err := exec.Exec(lt, rt)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(out[0].Shape().Dimensions, wantDims) || out[0].DType() != dtype {
						t.Fatalf("output shape %s, want %s%v", out[0].Shape(), dtype, wantDims)
					}
					got := valuesOf(out[0])
					depth := len(lhs) * len(rhs) / max(1, len(want)) // product of contracting dims, roughly
					tol := 1e-5 * math.Sqrt(float64(depth+1))
					if dtype == dtypes.BFloat16 {
						tol = 1e-2 // the output is rounded to 8 bits of mantissa
					}
					for i := range want {
						if d := math.Abs(got[i] - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
							t.Fatalf("element %d = %g, want %g", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

func tensorOf(dtype dtypes.DType, v []float64, dims []int) *tensors.Tensor {
	switch dtype {
	case dtypes.BFloat16:
		f := make([]bfloat16.BFloat16, len(v))
		for i, x := range v {
			f[i] = bfloat16.FromFloat64(x)
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	default:
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	}
}

func valuesOf(t *tensors.Tensor) []float64 {
	var out []float64
	if t.DType() == dtypes.BFloat16 {
		tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
			for _, x := range flat {
				out = append(out, float64(x.Float32()))
			}
		})
		return out
	}
	tensors.ConstFlatData(t, func(flat []float32) {
		for _, x := range flat {
			out = append(out, float64(x))
		}
	})
	return out
}

// TestDotGeneralZeroSize: a product with an empty axis is rejected when the
// graph is built, with an error rather than a panic or a wrong result.
func TestDotGeneralZeroSize(t *testing.T) {
	backend := newTestBackend(t, "ops_sequential")
	for _, dims := range [][2][]int{{{0, 4}, {4, 3}}, {{2, 0}, {0, 3}}, {{2, 4}, {4, 0}}} {
		exec, err := graph.NewExec(backend, func(l, r *graph.Node) *graph.Node {
			return graph.DotGeneral(l, []int{1}, nil, r, []int{0}, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		l := tensors.FromShape(shapes.Make(dtypes.Float32, dims[0]...))
		r := tensors.FromShape(shapes.Make(dtypes.Float32, dims[1]...))
		out, err := exec.Exec(l, r)
		if err == nil {
			t.Errorf("%v x %v: no error, got %s", dims[0], dims[1], out[0].Shape())
		} else if !strings.Contains(err.Error(), "sizes must be positive") {
			t.Errorf("%v x %v: error %q does not say why", dims[0], dims[1], err)
		}
		exec.Finalize()
	}
}
