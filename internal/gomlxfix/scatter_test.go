package gomlxfix

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// refScatterWindows adds 2x2 windows of updates [N, 2, 2] into a [4, 5]
// operand at the start positions starts [N, 2], skipping (as XLA does) a
// window that does not fit.
func refScatterWindows(operand arr, starts [][2]int32, updates arr) arr {
	out := newArr(operand.dims...)
	copy(out.data, operand.data)
	for n, s := range starts {
		r, c := int(s[0]), int(s[1])
		if r < 0 || c < 0 || r+2 > operand.dims[0] || c+2 > operand.dims[1] {
			continue
		}
		for i := range 2 {
			for j := range 2 {
				out.set(out.at(r+i, c+j)+updates.at(n, i, j), r+i, c+j)
			}
		}
	}
	return out
}

// scatterWindows runs a ScatterSum (or ScatterMax) of [N, 2, 2] windows
// directly on the backend's builder, in the form the gradient of
// GatherSlices uses: indices [N, 2] with the vector axis last, window axes
// 1 and 2, no inserted axes.
func scatterWindows(b backends.Backend, op string, operand arr, starts [][2]int32, updates arr) ([]float64, error) {
	flat := make([]int32, 0, 2*len(starts))
	for _, s := range starts {
		flat = append(flat, s[0], s[1])
	}
	bld := b.Builder("scatter")
	x, err := bld.Parameter("x", shapes.Make(dtypes.Float64, operand.dims...), nil)
	if err != nil {
		return nil, err
	}
	idx, err := bld.Constant(flat, len(starts), 2)
	if err != nil {
		return nil, err
	}
	upd, err := bld.Constant(slices.Clone(updates.data), updates.dims...)
	if err != nil {
		return nil, err
	}
	fn := bld.ScatterSum
	if op == "max" {
		fn = bld.ScatterMax
	}
	out, err := fn(x, idx, upd, 1, []int{1, 2}, nil, []int{0, 1}, false, false)
	if err != nil {
		return nil, err
	}
	exe, err := bld.Compile([]backends.Op{out}, nil)
	if err != nil {
		return nil, err
	}
	in, err := b.BufferFromFlatData(0, slices.Clone(operand.data), shapes.Make(dtypes.Float64, operand.dims...))
	if err != nil {
		return nil, err
	}
	res, err := exe.Execute([]backends.Buffer{in}, []bool{false}, 0)
	if err != nil {
		return nil, err
	}
	got := make([]float64, len(operand.data))
	return got, b.BufferToFlatData(res[0], got)
}

func TestScatterSumWithNarrowWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	operand := randArr(rng, 4, 5)
	starts := [][2]int32{{0, 0}, {1, 3}, {2, 1}, {3, 3}, {1, 3}} // {3,3} does not fit; {1,3} repeats
	updates := randArr(rng, len(starts), 2, 2)
	want := refScatterWindows(operand, starts, updates)

	got, err := scatterWindows(fixedGo(t), "sum", operand, starts, updates)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "ScatterSum", got, want.data, 1e-12)

	// The stock backend silently writes the windows to the wrong elements.
	stock, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	fitting := [][2]int32{{0, 0}, {1, 3}, {2, 1}}
	if got, err := scatterWindows(stock, "sum", operand, fitting, updates); err == nil {
		want := refScatterWindows(operand, fitting, updates)
		diff := 0.0
		for i, v := range got {
			diff = max(diff, v-want.data[i], want.data[i]-v)
		}
		if diff < 1e-9 {
			t.Error("the stock ScatterSum now handles narrow windows: the rewrite may be removable")
		}
	}
}

func TestGatherSlicesGradient(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(23, 24))
	checkGradient(t, b, func(x *Node) *Node {
		start := Const(x.Graph(), [][]int32{{1, 2}, {0, 0}, {2, 2}, {1, 2}})
		return GatherSlices(x, []int{0, 1}, start, []int{2, 3}, false)
	}, randArr(rng, 4, 5), 1e-6)
}

func TestScatterMaxNarrowWindowsRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	_, err := scatterWindows(fixedGo(t), "max", randArr(rng, 4, 5), [][2]int32{{0, 0}}, randArr(rng, 1, 2, 2))
	if err == nil {
		t.Fatal("ScatterMax with a narrow window: no error")
	}
}
