package simplego

// asrkit: tests of the fast paths asrkit added to the element-wise ops:
// broadcastIterator (exec_binary.go), reduceOutputIterator and
// reduceTrailingFloat32 (exec_special_ops.go).

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TestBroadcastIterator checks the flat indices against their definition
// (the source index of each output element, with broadcast axes pinned to
// 0) for random shapes of rank 0 to 4.
func TestBroadcastIterator(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		rank := r.IntN(5)
		to := make([]int, rank)
		from := make([]int, rank)
		for a := range rank {
			to[a] = 1 + r.IntN(4)
			from[a] = to[a]
			if r.IntN(2) == 0 {
				from[a] = 1
			}
		}
		toShape, fromShape := shapes.Make(dtypes.Float32, to...), shapes.Make(dtypes.Float32, from...)
		it := newBroadcastIterator(fromShape, toShape)
		idx := make([]int, rank)
		for o := range toShape.Size() {
			// Source index of output element o.
			want, stride := 0, 1
			for a := rank - 1; a >= 0; a-- {
				if from[a] != 1 {
					want += idx[a] * stride
				}
				stride *= from[a]
			}
			if got := it.Next(); got != want {
				t.Fatalf("from %v to %v: element %d (%v): flat index %d, want %d", from, to, o, idx, got, want)
			}
			for a := rank - 1; a >= 0; a-- {
				idx[a]++
				if idx[a] < to[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
}

// TestReduceOutputIterator checks the output index of each operand element
// against its definition (the flat index over the axes not reduced) for
// random shapes and reduced axes.
func TestReduceOutputIterator(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		rank := 1 + r.IntN(4)
		dims := make([]int, rank)
		reduced := make([]bool, rank)
		var axes []int
		for a := range rank {
			dims[a] = 1 + r.IntN(4)
			if r.IntN(2) == 0 {
				reduced[a] = true
				axes = append(axes, a)
			}
		}
		it := newReduceOutputIterator(dims, axes)
		idx := make([]int, rank)
		for o := range shapes.Make(dtypes.Float32, dims...).Size() {
			want := 0
			for a := range rank {
				if !reduced[a] {
					want = want*dims[a] + idx[a]
				}
			}
			if got := it.next(); got != want {
				t.Fatalf("dims %v, reduced %v: element %d (%v): output index %d, want %d", dims, axes, o, idx, got, want)
			}
			for a := rank - 1; a >= 0; a-- {
				idx[a]++
				if idx[a] < dims[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
}

// TestReduceTrailingFloat32 checks that the fast path for reductions over
// the last axes gives bit for bit the results of the generic code,
// including infinities and NaNs, and declines the cases it does not handle.
func TestReduceTrailingFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	ops := []backends.OpType{backends.OpTypeReduceSum, backends.OpTypeReduceMax, backends.OpTypeReduceMin}
	generic := map[backends.OpType]genericReduceFn{
		backends.OpTypeReduceSum: execReduceSumGeneric[float32],
		backends.OpTypeReduceMax: execReduceMaxGeneric[float32],
		backends.OpTypeReduceMin: execReduceMinGeneric[float32],
	}
	for range 300 {
		rank := 1 + r.IntN(4)
		dims := make([]int, rank)
		for a := range dims {
			dims[a] = 1 + r.IntN(5)
		}
		n := 1 + r.IntN(rank)
		axes := make([]int, n)
		for i := range axes {
			axes[i] = rank - n + i
		}
		r.Shuffle(n, func(i, j int) { axes[i], axes[j] = axes[j], axes[i] })
		inShape := shapes.Make(dtypes.Float32, dims...)
		outShape := shapes.Make(dtypes.Float32, dims[:rank-n]...)
		in := make([]float32, inShape.Size())
		for i := range in {
			switch r.IntN(20) {
			case 0:
				in[i] = float32(math.NaN())
			case 1:
				in[i] = float32(math.Inf(1 - 2*r.IntN(2)))
			default:
				in[i] = float32(r.NormFloat64())
			}
		}
		operand := &Buffer{shape: inShape, flat: in}
		for _, op := range ops {
			fast := &Buffer{shape: outShape, flat: make([]float32, outShape.Size())}
			want := &Buffer{shape: outShape, flat: make([]float32, outShape.Size())}
			if !reduceTrailingFloat32(op, operand, fast, axes) {
				t.Fatalf("%s of %v over %v: fast path declined", op, dims, axes)
			}
			generic[op](operand, want, newReduceOutputIterator(dims, axes), dtypes.Float32)
			for i, w := range want.flat.([]float32) {
				g := fast.flat.([]float32)[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
					t.Fatalf("%s of %v over %v: element %d = %g, want %g", op, dims, axes, i, g, w)
				}
			}
		}
	}
	// Not handled: leading axes, other dtypes and ops.
	operand := &Buffer{shape: shapes.Make(dtypes.Float32, 2, 3), flat: make([]float32, 6)}
	out := &Buffer{shape: shapes.Make(dtypes.Float32, 3), flat: make([]float32, 3)}
	if reduceTrailingFloat32(backends.OpTypeReduceSum, operand, out, []int{0}) {
		t.Error("reduction over a leading axis took the fast path")
	}
	if reduceTrailingFloat32(backends.OpTypeReduceProduct, operand, out, []int{1}) {
		t.Error("ReduceProduct took the fast path")
	}
	f64 := &Buffer{shape: shapes.Make(dtypes.Float64, 2, 3), flat: make([]float64, 6)}
	if reduceTrailingFloat32(backends.OpTypeReduceSum, f64, out, []int{1}) {
		t.Error("float64 took the fast path")
	}
}

// TestTransposeIterator checks the output index of each operand element
// against its definition for random shapes and permutations.
func TestTransposeIterator(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 500 {
		rank := r.IntN(5)
		dims := make([]int, rank)
		for a := range dims {
			dims[a] = 1 + r.IntN(4)
		}
		perm := r.Perm(rank)
		outDims := make([]int, rank)
		for o, a := range perm {
			outDims[o] = dims[a]
		}
		it := newTransposeIterator(shapes.Make(dtypes.Float32, dims...), perm)
		idx := make([]int, rank)
		for e := range shapes.Make(dtypes.Float32, dims...).Size() {
			want := 0
			for o, a := range perm {
				want = want*outDims[o] + idx[a]
			}
			if got := it.next(); got != want {
				t.Fatalf("dims %v, permutation %v: element %d (%v): output index %d, want %d", dims, perm, e, idx, got, want)
			}
			for a := rank - 1; a >= 0; a-- {
				idx[a]++
				if idx[a] < dims[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
}
