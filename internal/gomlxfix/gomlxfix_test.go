package gomlxfix

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	ownsimplego "github.com/asrkit/asrkit/internal/simplego"
)

// refPad is XLA's Pad semantics written directly: output position i of an
// axis maps to padded position i-Start, which holds an element when it is a
// multiple of Interior+1 within range, and the fill value otherwise.
func refPad(x arr, fill float64, cfg []backends.PadAxis) arr {
	outDims := slices.Clone(x.dims)
	full := make([]backends.PadAxis, len(x.dims))
	copy(full, cfg)
	for a, p := range full {
		n := x.dims[a]
		outDims[a] = n + (n-1)*p.Interior + p.Start + p.End
	}
	out := newArr(outDims...)
	src := make([]int, len(x.dims))
	forEach(outDims, func(idx []int) {
		for a, p := range full {
			pos := idx[a] - p.Start
			step := p.Interior + 1
			if pos < 0 || pos%step != 0 || pos/step >= x.dims[a] {
				out.set(fill, idx...)
				return
			}
			src[a] = pos / step
		}
		out.set(x.at(src...), idx...)
	})
	return out
}

func TestPadMatchesXLASemantics(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		dims []int
		cfg  []backends.PadAxis
	}{
		{[]int{5}, []backends.PadAxis{{Start: 2, End: 3}}},
		{[]int{5}, []backends.PadAxis{{Start: -2, End: -1}}},
		{[]int{5}, []backends.PadAxis{{Interior: 2}}},
		{[]int{4}, []backends.PadAxis{{Start: -3, End: 2, Interior: 1}}},
		{[]int{2}, []backends.PadAxis{{Start: -3, End: 2}}}, // removes into the other side's padding
		{[]int{3, 4}, []backends.PadAxis{{Start: 1, End: -1, Interior: 1}, {Start: -1, End: 2, Interior: 3}}},
		{[]int{2, 3, 4}, []backends.PadAxis{{}, {Start: 2, Interior: 1}}}, // fewer configs than axes
		{[]int{1, 3}, []backends.PadAxis{{Start: 1, End: 1, Interior: 5}, {}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v%+v", tc.dims, tc.cfg), func(t *testing.T) {
			x := randArr(rng, tc.dims...)
			const fill = 7.5
			got := run1(t, b, func(x *Node) *Node {
				return Pad(x, Const(x.Graph(), fill), tc.cfg...)
			}, x.tensor())
			want := refPad(x, fill, tc.cfg)
			if !slices.Equal(got.Shape().Dimensions, want.dims) {
				t.Fatalf("shape %v, want %v", got.Shape().Dimensions, want.dims)
			}
			assertClose(t, "Pad", flat64(t, got), want.data, 0)
		})
	}
}

func TestPadRejectsBadInput(t *testing.T) {
	b := fixedGo(t)
	for name, fn := range map[string]func(x *Node) *Node{
		"negative interior": func(x *Node) *Node { return Pad(x, ScalarZero(x.Graph(), x.DType()), PadAxis{Interior: -1}) },
		"empty result":      func(x *Node) *Node { return Pad(x, ScalarZero(x.Graph(), x.DType()), PadAxis{Start: -2, End: -1}) },
		"fill dtype":        func(x *Node) *Node { return Pad(x, Const(x.Graph(), float32(0)), PadAxis{Start: 1}) },
	} {
		t.Run(name, func(t *testing.T) {
			e := MustNewExec(b, fn)
			defer e.Finalize()
			if _, err := e.Exec([]float64{1, 2, 3}); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestReverse(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(3, 4))
	x := randArr(rng, 3, 1, 4, 2)
	for _, axes := range [][]int{{0}, {2}, {0, 2, 3}, {1}, {}} {
		t.Run(fmt.Sprint(axes), func(t *testing.T) {
			got := run1(t, b, func(x *Node) *Node { return Reverse(x, axes...) }, x.tensor())
			want := newArr(x.dims...)
			src := make([]int, len(x.dims))
			forEach(x.dims, func(idx []int) {
				copy(src, idx)
				for _, a := range axes {
					src[a] = x.dims[a] - 1 - idx[a]
				}
				want.set(x.at(src...), idx...)
			})
			assertClose(t, "Reverse", flat64(t, got), want.data, 0)
		})
	}
}

func TestDynamicSliceAndUpdateClampLikeXLA(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(5, 6))
	x := randArr(rng, 4, 5)
	x.data[0] = math.NaN() // outside every update window below: must pass through
	for _, start := range [][2]int32{{1, 2}, {-3, 1}, {3, 9}, {0, 0}} {
		t.Run(fmt.Sprint(start), func(t *testing.T) {
			s0 := max(0, min(int(start[0]), 4-2))
			s1 := max(0, min(int(start[1]), 5-3))
			got := run1(t, b, func(x, i, j *Node) *Node { return DynamicSlice(x, []*Node{i, j}, []int{2, 3}) },
				x.tensor(), start[0], start[1])
			want := newArr(2, 3)
			forEach(want.dims, func(idx []int) { want.set(x.at(idx[0]+s0, idx[1]+s1), idx...) })
			assertClose(t, "DynamicSlice", flat64(t, got), want.data, 0)

			upd := randArr(rng, 2, 3)
			got = run1(t, b, func(x, u, i, j *Node) *Node { return DynamicUpdateSlice(x, u, []*Node{i, j}) },
				x.tensor(), upd.tensor(), start[0], start[1])
			want = newArr(x.dims...)
			copy(want.data, x.data)
			forEach(upd.dims, func(idx []int) { want.set(upd.at(idx...), idx[0]+s0, idx[1]+s1) })
			assertClose(t, "DynamicUpdateSlice", flat64(t, got), want.data, 0)
		})
	}
}

// refConv1D is a channels-last 1-D convolution with stride, padding and
// kernel dilation: x [B, T, Ci], k [K, Ci, Co] -> [B, T', Co].
func refConv1D(x, k arr, stride, dilation int, pad [2]int) arr {
	bsz, tlen, ci := x.dims[0], x.dims[1], x.dims[2]
	kl, co := k.dims[0], k.dims[2]
	span := (kl-1)*dilation + 1
	tOut := (tlen+pad[0]+pad[1]-span)/stride + 1
	out := newArr(bsz, tOut, co)
	forEach(out.dims, func(idx []int) {
		s := 0.0
		for kk := range kl {
			tt := idx[1]*stride + kk*dilation - pad[0]
			if tt < 0 || tt >= tlen {
				continue
			}
			for c := range ci {
				s += x.at(idx[0], tt, c) * k.at(kk, c, idx[2])
			}
		}
		out.set(s, idx...)
	})
	return out
}

func TestConvolveNilStridesAndDilations(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(8, 9))
	x := randArr(rng, 2, 9, 3)
	k := randArr(rng, 3, 3, 4)
	// Convolve(...).Done() passes nil strides: rejected by the stock backend.
	got := run1(t, b, func(x, k *Node) *Node { return Convolve(x, k).Done() }, x.tensor(), k.tensor())
	assertClose(t, "Convolve", flat64(t, got), refConv1D(x, k, 1, 1, [2]int{}).data, 1e-12)

	// Input dilation 2 with nil kernel dilations (the transposed convolution
	// of a strided convolution's gradient): out of range on the stock backend.
	axes := ConvolveAxesConfig{InputBatch: 0, InputSpatial: []int{1}, InputChannels: 2,
		KernelSpatial: []int{0}, KernelInputChannels: 1, KernelOutputChannels: 2,
		OutputBatch: 0, OutputSpatial: []int{1}, OutputChannels: 2}
	got = run1(t, b, func(x, k *Node) *Node {
		return ConvGeneral(x, k, axes, nil, [][2]int{{1, 2}}, []int{2}, nil, 1, 1)
	}, x.tensor(), k.tensor())
	// Reference: dilate the input explicitly, then convolve.
	xd := newArr(2, 17, 3)
	forEach(x.dims, func(idx []int) { xd.set(x.at(idx...), idx[0], 2*idx[1], idx[2]) })
	assertClose(t, "dilated ConvGeneral", flat64(t, got), refConv1D(xd, k, 1, 1, [2]int{1, 2}).data, 1e-12)
}

func TestGradients(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(10, 11))
	kernel := randArr(rng, 3, 2, 3)
	tests := []struct {
		name string
		dims []int
		f    func(x *Node) *Node
	}{
		{"Slice", []int{4, 7}, func(x *Node) *Node { return Slice(x, AxisRange(1, 4), AxisRange(1, 7).Stride(2)) }},
		{"Pad", []int{3, 4}, func(x *Node) *Node {
			return Pad(x, Const(x.Graph(), 0.5), PadAxis{Start: -1, End: 2, Interior: 1}, PadAxis{Start: 1, End: -2, Interior: 2})
		}},
		{"Pad fill", []int{1}, func(x *Node) *Node {
			return Pad(Const(x.Graph(), []float64{1, 2, 3}), Reshape(x), PadAxis{Start: -1, End: 2, Interior: 1})
		}},
		{"Reverse", []int{3, 4}, func(x *Node) *Node { return Mul(Reverse(x, 0, 1), x) }},
		{"DynamicSlice", []int{5, 4}, func(x *Node) *Node {
			g := x.Graph()
			return DynamicSlice(x, []*Node{Const(g, int32(2)), Const(g, int32(1))}, []int{2, 3})
		}},
		{"Convolve wrt x, stride 2, padding", []int{2, 9, 2}, func(x *Node) *Node {
			return Convolve(x, Const(x.Graph(), kernel.tensor())).Strides(2).PadSame().Done()
		}},
		{"Convolve wrt kernel, dilation 2", []int{3, 2, 3}, func(k *Node) *Node {
			xs := randArr(rand.New(rand.NewPCG(1, 1)), 2, 9, 2)
			return Convolve(Const(k.Graph(), xs.tensor()), k).Dilations(2).Done()
		}},
		{"Rsqrt", []int{5}, func(x *Node) *Node { return Rsqrt(AddScalar(Square(x), 0.5)) }},
		{"Expm1", []int{5}, func(x *Node) *Node { return Expm1(x) }},
		{"Clamp", []int{6}, func(x *Node) *Node { return Clamp(Const(x.Graph(), -0.3), x, Const(x.Graph(), 0.4)) }},
		{"comparison mask", []int{6}, func(x *Node) *Node {
			return Mul(x, ConvertDType(GreaterThan(x, ScalarZero(x.Graph(), x.DType())), dtypes.Float64))
		}},
		{"Sign and Floor", []int{6}, func(x *Node) *Node { return Add(Mul(x, Sign(x)), Floor(MulScalar(x, 3))) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkGradient(t, b, tc.f, randArr(rng, tc.dims...), 1e-6)
		})
	}
}

// dotCases are DotGeneral configurations: shapes and axes.
var dotCases = []struct {
	name           string
	lhs, rhs       []int
	lc, lb, rc, rb []int
}{
	{"matmul", []int{3, 4}, []int{4, 5}, []int{1}, nil, []int{0}, nil},
	{"transposed operands", []int{4, 3}, []int{5, 4}, []int{0}, nil, []int{1}, nil},
	{"batched attention scores", []int{2, 3, 5, 4}, []int{2, 3, 6, 4}, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}},
	{"batch axes not leading", []int{5, 2, 4}, []int{4, 2, 3}, []int{2}, []int{1}, []int{0}, []int{1}},
	{"two contracting axes, swapped order", []int{3, 4, 2}, []int{2, 5, 3}, []int{0, 2}, nil, []int{2, 0}, nil},
	{"dense on rank 3", []int{2, 6, 4}, []int{4, 3}, []int{2}, nil, []int{0}, nil},
	{"outer product", []int{3}, []int{4}, nil, nil, nil, nil},
	{"dot product", []int{5}, []int{5}, []int{0}, nil, []int{0}, nil},
}

func TestDotGeneralGradients(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(12, 13))
	for _, tc := range dotCases {
		rhs := randArr(rng, tc.rhs...)
		lhs := randArr(rng, tc.lhs...)
		t.Run(tc.name+"/lhs", func(t *testing.T) {
			checkGradient(t, b, func(x *Node) *Node {
				return DotGeneral(x, tc.lc, tc.lb, Const(x.Graph(), rhs.tensor()), tc.rc, tc.rb)
			}, lhs, 1e-6)
		})
		t.Run(tc.name+"/rhs", func(t *testing.T) {
			checkGradient(t, b, func(x *Node) *Node {
				return DotGeneral(Const(x.Graph(), lhs.tensor()), tc.lc, tc.lb, x, tc.rc, tc.rb)
			}, rhs, 1e-6)
		})
	}
}

func TestDotGradients(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(14, 15))
	for _, dims := range [][2][]int{{{4}, {4}}, {{3, 4}, {4}}, {{3, 4}, {4, 2}}} {
		lhs, rhs := randArr(rng, dims[0]...), randArr(rng, dims[1]...)
		t.Run(fmt.Sprint(dims), func(t *testing.T) {
			checkGradient(t, b, func(x *Node) *Node { return Dot(x, Const(x.Graph(), rhs.tensor())) }, lhs, 1e-6)
			checkGradient(t, b, func(x *Node) *Node { return Dot(Const(x.Graph(), lhs.tensor()), x) }, rhs, 1e-6)
		})
	}
}

// largestGradientNode builds the gradient of a batched matmul and returns the
// size of the largest intermediate tensor in the graph.
func largestGradientNode(t *testing.T, b backends.Backend) (largest, operands int) {
	t.Helper()
	g := NewGraph(b, "dot-gradient")
	defer g.Finalize()
	lhs := Parameter(g, "lhs", shapes.Make(dtypes.Float32, 8, 100, 64))
	rhs := Parameter(g, "rhs", shapes.Make(dtypes.Float32, 64, 96))
	out := DotGeneral(lhs, []int{2}, nil, rhs, []int{0}, nil)
	grads := Gradient(ReduceAllSum(Square(out)), lhs, rhs)
	_ = grads
	for _, n := range g.Nodes() {
		if n.NumOutputs() == 1 {
			largest = max(largest, n.Shape().Size())
		}
	}
	return largest, max(lhs.Shape().Size(), rhs.Shape().Size(), out.Shape().Size())
}

// TestDotGeneralGradientIsCompact: GoMLX's own gradient materialises a
// [batch, lhs, rhs, contracted] tensor (here 8*100*96*64 = 4.9M elements, 64x
// the operands), which made it 94% of a training step; ours never creates a
// tensor larger than the operands or the output.
func TestDotGeneralGradientIsCompact(t *testing.T) {
	b := fixedGo(t)
	largest, operands := largestGradientNode(t, b)
	if largest > operands {
		t.Errorf("largest tensor in the gradient graph has %d elements, operands/output at most %d", largest, operands)
	}

	// The same measurement with GoMLX's stock gradient shows what is fixed.
	ours := VJPRegistration[NodeTypeDotGeneral]
	VJPRegistration[NodeTypeDotGeneral] = stockVJP[NodeTypeDotGeneral]
	defer func() { VJPRegistration[NodeTypeDotGeneral] = ours }()
	stockLargest, _ := largestGradientNode(t, b)
	if stockLargest <= operands {
		t.Errorf("stock gradient no longer materialises a large tensor (%d elements): is the replacement still needed?", stockLargest)
	}
}

func TestParameterReflection(t *testing.T) {
	b := fixedGo(t)
	g := NewGraph(b, "params")
	defer g.Finalize()
	x := Parameter(g, "x", shapes.Make(dtypes.Float32, 2, 3, 4))
	dg := DotGeneral(x, []int{2}, []int{0}, x, []int{2}, []int{0})
	if p := mustParams(dg, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes"); fmt.Sprint(p) != "[[2] [0] [2] [0]]" {
		t.Errorf("DotGeneral parameters %v", p)
	}
	if p := mustParams(Reverse(x, 0, 2), "axes"); fmt.Sprint(p) != "[[0 2]]" {
		t.Errorf("Reverse parameters %v", p)
	}
	cfg := []PadAxis{{Start: 1, End: -1, Interior: 2}, {}, {End: 3}}
	if p := padConfig(Pad(x, ScalarZero(g, dtypes.Float32), cfg...)); !slices.Equal(p, cfg) {
		t.Errorf("Pad parameters %v, want %v", p, cfg)
	}
}

// TestStockBackendNeedsTheFixes documents the bugs of GoMLX v0.26.0's
// pure-Go backend that this package works around. If it starts failing after
// a GoMLX upgrade, the corresponding workaround may be removable.
func TestStockBackendNeedsTheFixes(t *testing.T) {
	stock, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	// Tensors are bound to the backend they are first used on: new ones per run.
	x := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 1, 6, 1) }
	k := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions([]float32{1, -1}, 2, 1, 1) }
	for name, fn := range map[string]any{
		"Pad":     func(x *Node) *Node { return Pad(x, ScalarZero(x.Graph(), x.DType()), PadAxis{Start: 1}) },
		"Reverse": func(x *Node) *Node { return Reverse(x, 1) },
		"Slice gradient": func(x *Node) *Node {
			return Gradient(ReduceAllSum(Slice(x, AxisRange(), AxisRange(1, 3))), x)[0]
		},
		"Convolve with nil strides": func(x, k *Node) *Node { return Convolve(x, k).Done() },
		"DynamicSlice": func(x *Node) *Node {
			return DynamicSlice(x, []*Node{Const(x.Graph(), int32(0)), Const(x.Graph(), int32(1)), Const(x.Graph(), int32(0))}, []int{1, 2, 1})
		},
	} {
		t.Run(name, func(t *testing.T) {
			args := func() []any {
				if strings.HasPrefix(name, "Convolve") {
					return []any{x(), k()}
				}
				return []any{x()}
			}
			e, err := NewExecAny(stock, fn)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Finalize()
			if _, err := e.Exec(args()...); err == nil {
				t.Errorf("stock pure-Go backend now supports %s", name)
			}
			e2, err := NewExecAny(fixedGo(t), fn)
			if err != nil {
				t.Fatal(err)
			}
			defer e2.Finalize()
			if _, err := e2.Exec(args()...); err != nil {
				t.Errorf("fixed backend: %v", err)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	b := fixedGo(t)
	if !IsFixed(b) || Wrap(b) != b {
		t.Error("Wrap of a fixed backend should return it unchanged")
	}
	for _, op := range addedOps {
		if !b.Capabilities().Operations[op] {
			t.Errorf("capability %s missing", op)
		}
	}
	if ownsimplego.Capabilities.Operations[backends.OpTypePad] || simplego.Capabilities.Operations[backends.OpTypePad] {
		t.Error("wrapping modified the pure-Go backend's global capabilities")
	}
	if b.String() != "go" {
		t.Errorf("String() = %q, want go", b.String())
	}
}
