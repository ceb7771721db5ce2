package gomlxfix

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/asrkit/asrkit/internal/simplego"
)

// addedOps are the operations the wrapper adds to the pure-Go backend.
var addedOps = []backends.OpType{
	backends.OpTypePad,
	backends.OpTypeReverse,
	backends.OpTypeDynamicSlice,
	backends.OpTypeDynamicUpdateSlice,
}

// goBackend is GoMLX's pure-Go backend with the missing ops added.
type goBackend struct {
	*simplego.Backend
	capabilities backends.Capabilities
}

// NewGoBackend creates the pure-Go backend ("go": asrkit's copy of GoMLX's
// simplego, internal/simplego) with the given simplego configuration (for
// example "parallelism=-1" or "ops_sequential"; "" for its defaults) and
// returns it with the fixes of this package.
func NewGoBackend(config string) (backends.Backend, error) {
	b, err := simplego.New(config)
	if err != nil {
		return nil, fmt.Errorf("gomlxfix: creating the pure-Go backend with config %q: %w", config, err)
	}
	return Wrap(b), nil
}

// Wrap returns b with the fixes of this package when b is the pure-Go
// backend of asrkit's copy (internal/simplego, what [NewGoBackend] creates),
// and b unchanged otherwise: XLA has every op already, and GoMLX's own
// backends/simplego is a different type, left as it is. Wrapping an already
// wrapped backend returns it as is.
func Wrap(b backends.Backend) backends.Backend {
	sg, ok := b.(*simplego.Backend)
	if !ok {
		return b
	}
	caps := sg.Capabilities().Clone()
	for _, op := range addedOps {
		caps.Operations[op] = true
	}
	return &goBackend{Backend: sg, capabilities: caps}
}

// IsFixed reports whether b is a pure-Go backend returned by [Wrap] or
// [NewGoBackend].
func IsFixed(b backends.Backend) bool {
	_, ok := b.(*goBackend)
	return ok
}

// Description implements backends.Backend.
func (b *goBackend) Description() string {
	return b.Backend.Description() + " (with asrkit's Pad, Reverse, DynamicSlice and ConvGeneral fixes)"
}

// Capabilities implements backends.Backend: the pure-Go backend's plus the
// added ops.
func (b *goBackend) Capabilities() backends.Capabilities { return b.capabilities }

// Builder implements backends.Backend.
func (b *goBackend) Builder(name string) backends.Builder {
	inner, ok := b.Backend.Builder(name).(*simplego.Builder)
	if !ok {
		// Cannot happen with GoMLX v0.26.0; keep the unfixed builder rather than panic.
		return b.Backend.Builder(name)
	}
	return &builder{Builder: inner}
}

// builder embeds the pure-Go builder; methods defined here replace the
// "not implemented" ones it inherits.
type builder struct {
	*simplego.Builder
}

func (b *builder) shapeOf(op backends.Op) (shapes.Shape, error) {
	s, err := b.Builder.OpShape(op)
	if err != nil {
		return s, err
	}
	// OpShape shares its dimensions slice with the node: never modify it.
	return s.Clone(), nil
}

// ConvGeneral implements backends.Builder: nil strides and dilations mean 1,
// as in XLA (the pure-Go backend rejects nil strides, and with input
// dilations but nil kernel dilations it indexes out of range).
func (b *builder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (backends.Op, error) {
	shape, err := b.shapeOf(input)
	if err != nil {
		return nil, err
	}
	spatial := shape.Rank() - 2
	ones := func(v []int) []int {
		if len(v) != 0 {
			return slices.Clone(v)
		}
		if spatial < 1 {
			return v // Let the backend report the rank error.
		}
		out := make([]int, spatial)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	return b.Builder.ConvGeneral(input, kernel, axes, ones(strides), paddings, ones(inputDilations), ones(kernelDilations),
		channelGroupCount, batchGroupCount)
}

// ConvGeneralDilated is the deprecated alias of ConvGeneral.
func (b *builder) ConvGeneralDilated(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (backends.Op, error) {
	return b.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations, channelGroupCount, batchGroupCount)
}

// Pad implements backends.Builder with XLA's semantics: for each axis,
// Interior copies of fill between consecutive elements, then Start elements
// before and End after; negative Start or End remove elements instead.
// Axes without a PadAxis are not padded.
func (b *builder) Pad(x, fill backends.Op, axesConfig ...backends.PadAxis) (backends.Op, error) {
	xs, err := b.shapeOf(x)
	if err != nil {
		return nil, err
	}
	fs, err := b.shapeOf(fill)
	if err != nil {
		return nil, err
	}
	if !fs.IsScalar() || fs.DType != xs.DType {
		return nil, fmt.Errorf("Pad: fill value must be a scalar of the operand's dtype %s, got %s", xs.DType, fs)
	}
	if len(axesConfig) > xs.Rank() {
		return nil, fmt.Errorf("Pad: %d axes configured for an operand of rank %d (%s)", len(axesConfig), xs.Rank(), xs)
	}
	dims := slices.Clone(xs.Dimensions)
	out := x
	for axis, p := range axesConfig {
		if p.Interior < 0 {
			return nil, fmt.Errorf("Pad: negative interior padding %d on axis %d", p.Interior, axis)
		}
		n := dims[axis]
		if n == 0 {
			return nil, fmt.Errorf("Pad: axis %d of %s has size 0", axis, xs)
		}
		final := n + (n-1)*p.Interior + p.Start + p.End
		if final <= 0 {
			return nil, fmt.Errorf("Pad: axis %d of size %d with %+v would have size %d", axis, n, p, final)
		}
		if p.Interior > 0 && n > 1 {
			if out, err = b.padInterior(out, fill, dims, axis, p.Interior); err != nil {
				return nil, err
			}
		}
		// Positive padding first, so that negative padding on one side may
		// also remove elements of the other side's padding (as XLA does).
		if p.Start > 0 {
			if out, err = b.padEdge(out, fill, dims, axis, p.Start, true); err != nil {
				return nil, err
			}
		}
		if p.End > 0 {
			if out, err = b.padEdge(out, fill, dims, axis, p.End, false); err != nil {
				return nil, err
			}
		}
		if p.Start < 0 || p.End < 0 {
			starts, limits, strides := make([]int, len(dims)), slices.Clone(dims), make([]int, len(dims))
			for i := range strides {
				strides[i] = 1
			}
			starts[axis] = max(0, -p.Start)
			limits[axis] = dims[axis] - max(0, -p.End)
			if out, err = b.Builder.Slice(out, starts, limits, strides); err != nil {
				return nil, err
			}
			dims[axis] = limits[axis] - starts[axis]
		}
	}
	if out == x {
		// A new node, so that two graph nodes never share one backend op.
		return b.Builder.Identity(x)
	}
	return out, nil
}

// padInterior inserts k copies of fill between consecutive elements of axis;
// dims is updated in place.
func (b *builder) padInterior(x, fill backends.Op, dims []int, axis, k int) (backends.Op, error) {
	n := dims[axis]
	split := slices.Concat(dims[:axis], []int{n, 1}, dims[axis+1:])
	r, err := b.Builder.Reshape(x, split...)
	if err != nil {
		return nil, err
	}
	fillDims := slices.Concat(dims[:axis], []int{n, k}, dims[axis+1:])
	f, err := b.Builder.Broadcast(fill, fillDims...)
	if err != nil {
		return nil, err
	}
	c, err := b.Builder.Concatenate(axis+1, r, f)
	if err != nil {
		return nil, err
	}
	merged := slices.Concat(dims[:axis], []int{n * (1 + k)}, dims[axis+1:])
	m, err := b.Builder.Reshape(c, merged...)
	if err != nil {
		return nil, err
	}
	// Drop the k fill values after the last element.
	starts, limits, strides := make([]int, len(dims)), slices.Clone(merged), make([]int, len(dims))
	for i := range strides {
		strides[i] = 1
	}
	limits[axis] = n + (n-1)*k
	out, err := b.Builder.Slice(m, starts, limits, strides)
	if err != nil {
		return nil, err
	}
	dims[axis] = limits[axis]
	return out, nil
}

// padEdge concatenates count copies of fill before (or after) axis; dims is
// updated in place.
func (b *builder) padEdge(x, fill backends.Op, dims []int, axis, count int, before bool) (backends.Op, error) {
	fillDims := slices.Clone(dims)
	fillDims[axis] = count
	f, err := b.Builder.Broadcast(fill, fillDims...)
	if err != nil {
		return nil, err
	}
	var out backends.Op
	if before {
		out, err = b.Builder.Concatenate(axis, f, x)
	} else {
		out, err = b.Builder.Concatenate(axis, x, f)
	}
	if err != nil {
		return nil, err
	}
	dims[axis] += count
	return out, nil
}

// Reverse implements backends.Builder: each listed axis is reversed with a
// Gather of reversed indices.
func (b *builder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	xs, err := b.shapeOf(x)
	if err != nil {
		return nil, err
	}
	rank := xs.Rank()
	seen := make([]bool, rank)
	out := x
	for _, axis := range axes {
		if axis < 0 || axis >= rank {
			return nil, fmt.Errorf("Reverse: axis %d out of range for %s", axis, xs)
		}
		if seen[axis] {
			return nil, fmt.Errorf("Reverse: axis %d given twice", axis)
		}
		seen[axis] = true
		n := xs.Dimensions[axis]
		if n <= 1 {
			continue
		}
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(n - 1 - i)
		}
		indices, err := b.Builder.Constant(idx, n, 1)
		if err != nil {
			return nil, err
		}
		offsetAxes := make([]int, 0, rank-1)
		for a := range rank {
			if a != axis {
				offsetAxes = append(offsetAxes, a)
			}
		}
		sizes := slices.Clone(xs.Dimensions)
		sizes[axis] = 1
		out, err = b.Builder.Gather(out, indices, 1, offsetAxes, []int{axis}, []int{axis}, sizes, false)
		if err != nil {
			return nil, fmt.Errorf("Reverse: %w", err)
		}
	}
	if out == x {
		return b.Builder.Identity(x)
	}
	return out, nil
}

// startVector converts scalar start indices into one int32 vector [rank].
func (b *builder) startVector(op string, rank int, startIndices []backends.Op) (backends.Op, error) {
	if len(startIndices) != rank {
		return nil, fmt.Errorf("%s: %d start indices for an operand of rank %d", op, len(startIndices), rank)
	}
	parts := make([]backends.Op, rank)
	for i, s := range startIndices {
		ss, err := b.shapeOf(s)
		if err != nil {
			return nil, err
		}
		if !ss.IsScalar() || !ss.DType.IsInt() {
			return nil, fmt.Errorf("%s: start index %d must be an integer scalar, got %s", op, i, ss)
		}
		if ss.DType != dtypes.Int32 {
			if s, err = b.Builder.ConvertDType(s, dtypes.Int32); err != nil {
				return nil, err
			}
		}
		if parts[i], err = b.Builder.Reshape(s, 1); err != nil {
			return nil, err
		}
	}
	if rank == 1 {
		return parts[0], nil
	}
	return b.Builder.Concatenate(0, parts...)
}

func iota(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// DynamicSlice implements backends.Builder: a Gather with one start vector,
// which clamps start indices to [0, dim-size] exactly as XLA's DynamicSlice.
func (b *builder) DynamicSlice(operand backends.Op, startIndices []backends.Op, sliceDims []int) (backends.Op, error) {
	xs, err := b.shapeOf(operand)
	if err != nil {
		return nil, err
	}
	rank := xs.Rank()
	if rank == 0 {
		return nil, errors.New("DynamicSlice: scalar operand")
	}
	if len(sliceDims) != rank {
		return nil, fmt.Errorf("DynamicSlice: %d slice sizes for an operand of rank %d", len(sliceDims), rank)
	}
	for i, d := range sliceDims {
		if d < 1 || d > xs.Dimensions[i] {
			return nil, fmt.Errorf("DynamicSlice: slice size %d out of range [1, %d] on axis %d", d, xs.Dimensions[i], i)
		}
	}
	start, err := b.startVector("DynamicSlice", rank, startIndices)
	if err != nil {
		return nil, err
	}
	axes := iota(rank)
	return b.Builder.Gather(operand, start, 0, axes, nil, axes, slices.Clone(sliceDims), false)
}

// DynamicUpdateSlice implements backends.Builder: the update's elements are
// scattered one by one (ScatterSum into zeros, at flat positions computed
// from the clamped start indices) and selected with a Where, so values of the
// operand outside the window (even NaN) pass through and values inside it
// are replaced. (The pure-Go ScatterSum mishandles windows narrower than the
// operand, so windows are never used.)
func (b *builder) DynamicUpdateSlice(operand, update backends.Op, startIndices []backends.Op) (backends.Op, error) {
	xs, err := b.shapeOf(operand)
	if err != nil {
		return nil, err
	}
	us, err := b.shapeOf(update)
	if err != nil {
		return nil, err
	}
	rank := xs.Rank()
	if rank == 0 || us.Rank() != rank || us.DType != xs.DType {
		return nil, fmt.Errorf("DynamicUpdateSlice: update %s does not fit operand %s", us, xs)
	}
	if xs.DType == dtypes.Bool {
		return nil, errors.New("DynamicUpdateSlice: boolean operands are not supported by the pure-Go fix")
	}
	if xs.Size() > math.MaxInt32 {
		return nil, fmt.Errorf("DynamicUpdateSlice: operand %s too large", xs)
	}
	for i, d := range us.Dimensions {
		if d < 1 || d > xs.Dimensions[i] {
			return nil, fmt.Errorf("DynamicUpdateSlice: update %s larger than operand %s on axis %d", us, xs, i)
		}
	}
	start, err := b.startVector("DynamicUpdateSlice", rank, startIndices)
	if err != nil {
		return nil, err
	}
	// Clamp: XLA moves the window inside the operand; a scatter would drop it.
	maxStart := make([]int32, rank)
	strides := make([]int32, rank)
	stride := 1
	for i := rank - 1; i >= 0; i-- {
		maxStart[i] = int32(xs.Dimensions[i] - us.Dimensions[i])
		strides[i] = int32(stride)
		stride *= xs.Dimensions[i]
	}
	hi, err := b.Builder.Constant(maxStart, rank)
	if err != nil {
		return nil, err
	}
	lo, err := b.Builder.Constant(make([]int32, rank), rank)
	if err != nil {
		return nil, err
	}
	if start, err = b.Builder.Clamp(lo, start, hi); err != nil {
		return nil, err
	}
	// Flat position of every update element: base + offset[j].
	st, err := b.Builder.Constant(strides, rank)
	if err != nil {
		return nil, err
	}
	weighted, err := b.Builder.Mul(start, st)
	if err != nil {
		return nil, err
	}
	base, err := b.Builder.ReduceSum(weighted, 0)
	if err != nil {
		return nil, err
	}
	n := us.Size()
	offsets := make([]int32, 0, n)
	pos := make([]int, rank)
	for range n {
		off := 0
		for i := range rank {
			off += pos[i] * int(strides[i])
		}
		offsets = append(offsets, int32(off))
		for i := rank - 1; i >= 0; i-- {
			pos[i]++
			if pos[i] < us.Dimensions[i] {
				break
			}
			pos[i] = 0
		}
	}
	offs, err := b.Builder.Constant(offsets, n, 1)
	if err != nil {
		return nil, err
	}
	indices, err := b.Builder.Add(offs, base)
	if err != nil {
		return nil, err
	}
	flatOperand, err := b.Builder.Reshape(operand, xs.Size())
	if err != nil {
		return nil, err
	}
	flatUpdate, err := b.Builder.Reshape(update, n)
	if err != nil {
		return nil, err
	}
	zeros, err := b.filled(0, shapes.Make(xs.DType, xs.Size()))
	if err != nil {
		return nil, err
	}
	ones, err := b.filled(1, shapes.Make(xs.DType, n))
	if err != nil {
		return nil, err
	}
	scatter := func(values backends.Op) (backends.Op, error) {
		return b.Builder.ScatterSum(zeros, indices, values, 1, nil, []int{0}, []int{0}, true, true)
	}
	scattered, err := scatter(flatUpdate)
	if err != nil {
		return nil, fmt.Errorf("DynamicUpdateSlice: %w", err)
	}
	window, err := scatter(ones)
	if err != nil {
		return nil, fmt.Errorf("DynamicUpdateSlice: %w", err)
	}
	mask, err := b.Builder.NotEqual(window, zeros)
	if err != nil {
		return nil, err
	}
	merged, err := b.Builder.Where(mask, scattered, flatOperand)
	if err != nil {
		return nil, err
	}
	return b.Builder.Reshape(merged, xs.Dimensions...)
}

// filled returns a constant of the given shape filled with v.
func (b *builder) filled(v int32, shape shapes.Shape) (backends.Op, error) {
	c, err := b.Builder.Constant([]int32{v})
	if err != nil {
		return nil, err
	}
	if shape.DType != dtypes.Int32 {
		if c, err = b.Builder.ConvertDType(c, shape.DType); err != nil {
			return nil, err
		}
	}
	if shape.IsScalar() {
		return c, nil
	}
	return b.Builder.Broadcast(c, shape.Dimensions...)
}
