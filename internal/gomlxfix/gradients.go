package gomlxfix

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's own idiom for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// stockVJP keeps GoMLX's own gradient for every node type whose gradient this
// package replaced (nil when GoMLX had none), for tests and comparisons.
var stockVJP = map[NodeType]VJP{}

func init() { registerGradients() }

// registerGradients installs this package's gradients into
// graph.VJPRegistration. It runs once, from init.
func registerGradients() {
	replace := func(t NodeType, fn VJP) {
		stockVJP[t] = VJPRegistration[t]
		VJPRegistration[t] = fn
	}
	addIfMissing := func(t NodeType, fn VJP) {
		if _, ok := VJPRegistration[t]; ok {
			return // A later GoMLX defines it: keep GoMLX's.
		}
		stockVJP[t] = nil
		VJPRegistration[t] = fn
	}

	replace(NodeTypeDotGeneral, single(dotGeneralVJP))
	replace(NodeTypeDot, single(dotVJP))

	addIfMissing(NodeTypePad, single(padVJP))
	addIfMissing(NodeTypeReverse, single(reverseVJP))
	addIfMissing(NodeTypeRsqrt, single(rsqrtVJP))
	addIfMissing(NodeTypeExpm1, single(expm1VJP))
	addIfMissing(NodeTypeClamp, single(clampVJP))
	addIfMissing(NodeTypeIdentity, single(func(_, v *Node) []*Node { return []*Node{v} }))
	for _, t := range []NodeType{
		NodeTypeEqual, NodeTypeNotEqual, NodeTypeGreaterOrEqual, NodeTypeGreaterThan,
		NodeTypeLessOrEqual, NodeTypeLessThan, NodeTypeEqualTotalOrder, NodeTypeNotEqualTotalOrder,
		NodeTypeGreaterOrEqualTotalOrder, NodeTypeGreaterThanTotalOrder, NodeTypeLessOrEqualTotalOrder,
		NodeTypeLessThanTotalOrder, NodeTypeSign, NodeTypeFloor, NodeTypeCeil, NodeTypeRound,
		NodeTypeIsFinite, NodeTypeIsNaN, NodeTypeArgMinMax, NodeTypeBitCount, NodeTypeClz, NodeTypeIota,
	} {
		addIfMissing(t, single(zeroGradient))
	}
}

// single adapts a gradient of a single-output node to graph.VJP.
func single(fn func(node, v *Node) []*Node) VJP {
	return func(node *Node, vjps []*Node, _ shapes.Shape) []*Node { return fn(node, vjps[0]) }
}

// zeroGradient is the gradient of piecewise-constant ops: nothing flows back.
func zeroGradient(node, _ *Node) []*Node { return make([]*Node, len(node.Inputs())) }

// dotGeneralVJP is the gradient of DotGeneral written as two DotGenerals.
//
// The output axes are [batch..., lhsCross..., rhsCross...]. The gradient wrt
// lhs contracts v's rhsCross axes with rhs's cross axes, batched on the batch
// axes, giving [batch..., lhsCross..., rhs contracting axes in rhs order],
// which is then transposed into lhs's axis order; symmetrically for rhs.
func dotGeneralVJP(node, v *Node) []*Node {
	p := mustParams(node, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes")
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	return dotGeneralGradients(lhs, p[0], p[1], rhs, p[2], p[3], v)
}

// dotVJP is the gradient of Dot (vector/matrix products), which is
// DotGeneral contracting lhs's last axis with rhs's first.
func dotVJP(node, v *Node) []*Node {
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	return dotGeneralGradients(lhs, []int{lhs.Rank() - 1}, nil, rhs, []int{0}, nil, v)
}

func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

func dotGeneralGradients(lhs *Node, lc, lb []int, rhs *Node, rc, rb []int, v *Node) []*Node {
	nb := len(lb)
	lCross := crossAxes(lhs.Rank(), lc, lb)
	rCross := crossAxes(rhs.Rank(), rc, rb)
	vBatch := iotaFrom(0, nb)
	vLhsCross := iotaFrom(nb, len(lCross))
	vRhsCross := iotaFrom(nb+len(lCross), len(rCross))

	// grad wrt lhs: [batch..., lCross..., remaining rhs axes = rc sorted].
	gl := DotGeneral(v, vRhsCross, vBatch, rhs, rCross, rb)
	gl = TransposeAllAxes(gl, gradientPermutation(lhs.Rank(), lb, lCross, lc, rc)...)
	// grad wrt rhs: [batch..., rCross..., remaining lhs axes = lc sorted].
	gr := DotGeneral(v, vLhsCross, vBatch, lhs, lCross, lb)
	gr = TransposeAllAxes(gr, gradientPermutation(rhs.Rank(), rb, rCross, rc, lc)...)
	return []*Node{gl, gr}
}

// gradientPermutation returns the permutation that takes a gradient laid out
// as [batch..., cross..., other operand's contracting axes in increasing
// order] into this operand's axis order. thisContracting[k] pairs with
// otherContracting[k].
func gradientPermutation(rank int, batch, cross, thisContracting, otherContracting []int) []int {
	perm := make([]int, rank) // perm[thisAxis] = axis of the gradient.
	for i, a := range batch {
		perm[a] = i
	}
	for i, a := range cross {
		perm[a] = len(batch) + i
	}
	sorted := slices.Clone(otherContracting)
	slices.Sort(sorted)
	for k, a := range thisContracting {
		perm[a] = len(batch) + len(cross) + slices.Index(sorted, otherContracting[k])
	}
	return perm
}

func iotaFrom(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

// padVJP: the gradient wrt x undoes the padding (negative edge padding of
// the adjoint, then a strided slice over the interior padding); the fill
// value receives the sum of the adjoint over every padded position.
func padVJP(node, v *Node) []*Node {
	x, fill := node.Inputs()[0], node.Inputs()[1]
	cfg := padConfig(node)
	g := node.Graph()
	undo := make([]backends.PadAxis, x.Rank())
	var specs []SliceAxisSpec
	for axis := range x.Rank() {
		var p backends.PadAxis
		if axis < len(cfg) {
			p = cfg[axis]
		}
		undo[axis] = backends.PadAxis{Start: -p.Start, End: -p.End}
		specs = append(specs, AxisRange().Stride(p.Interior+1))
	}
	gx := Slice(Pad(v, ScalarZero(g, v.DType()), undo...), specs...)
	gFill := Sub(ReduceAllSum(v), ReduceAllSum(gx))
	return []*Node{gx, ConvertDType(gFill, fill.DType())}
}

// reverseVJP: reversing is its own inverse.
func reverseVJP(node, v *Node) []*Node {
	return []*Node{Reverse(v, mustParams(node, "axes")[0]...)}
}

// rsqrtVJP: d(x^-1/2)/dx = -1/2 x^-3/2 = -1/2 rsqrt(x)^3.
func rsqrtVJP(node, v *Node) []*Node {
	return []*Node{Mul(v, MulScalar(Mul(node, Square(node)), -0.5))}
}

// expm1VJP: d(exp(x)-1)/dx = exp(x) = expm1(x)+1.
func expm1VJP(node, v *Node) []*Node {
	return []*Node{Mul(v, OnePlus(node))}
}

// clampVJP: the adjoint flows to whichever of min, x or max was selected
// (to x on ties), summed over broadcast axes for scalar bounds.
func clampVJP(node, v *Node) []*Node {
	lo, x, hi := node.Inputs()[0], node.Inputs()[1], node.Inputs()[2]
	zero := ZerosLike(v)
	toLo := LessThan(BroadcastToShape(x, v.Shape()), BroadcastToShape(lo, v.Shape()))
	toHi := GreaterThan(BroadcastToShape(x, v.Shape()), BroadcastToShape(hi, v.Shape()))
	toX := LogicalNot(LogicalOr(toLo, toHi))
	return []*Node{
		sumToShape(Where(toLo, v, zero), lo.Shape()),
		sumToShape(Where(toX, v, zero), x.Shape()),
		sumToShape(Where(toHi, v, zero), hi.Shape()),
	}
}

// sumToShape reduces a broadcast adjoint back to a scalar input's shape.
func sumToShape(v *Node, s shapes.Shape) *Node {
	if v.Shape().Equal(s) {
		return v
	}
	return ReduceAllSum(v)
}

// padConfig reads the PadAxis list of a Pad node.
func padConfig(node *Node) []backends.PadAxis {
	f := paramField(node, "axesConfig")
	out := make([]backends.PadAxis, f.Len())
	for i := range out {
		e := f.Index(i)
		out[i] = backends.PadAxis{
			Start:    int(e.FieldByName("Start").Int()),
			End:      int(e.FieldByName("End").Int()),
			Interior: int(e.FieldByName("Interior").Int()),
		}
	}
	return out
}

// mustParams reads integer-slice parameters of a node. GoMLX keeps a node's
// static parameters (axes, paddings) in unexported fields and exports no
// accessor; reflection reads them without modifying anything. A change of
// layout in a future GoMLX panics inside gradient construction, which
// GoMLX's Exec turns into an error, and fails this package's tests.
func mustParams(node *Node, names ...string) [][]int {
	out := make([][]int, len(names))
	for i, name := range names {
		f := paramField(node, name)
		if f.Kind() != reflect.Slice {
			panic(fmt.Sprintf("gomlxfix: %s parameter %q is %s, not a slice", node.Type(), name, f.Kind()))
		}
		out[i] = make([]int, f.Len())
		for j := range out[i] {
			out[i][j] = int(f.Index(j).Int())
		}
	}
	return out
}

func paramField(node *Node, name string) reflect.Value {
	inputs := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !inputs.IsValid() || inputs.Kind() != reflect.Interface || inputs.IsNil() {
		panic(fmt.Sprintf("gomlxfix: cannot read the parameters of %s node (GoMLX layout changed?)", node.Type()))
	}
	params := inputs.Elem()
	if params.Kind() == reflect.Pointer {
		params = params.Elem()
	}
	if params.Kind() != reflect.Struct {
		panic(fmt.Sprintf("gomlxfix: %s node parameters are %s, not a struct", node.Type(), params.Kind()))
	}
	f := params.FieldByName(name)
	if !f.IsValid() {
		panic(fmt.Sprintf("gomlxfix: %s node has no parameter %q (GoMLX layout changed?)", node.Type(), name))
	}
	return f
}
