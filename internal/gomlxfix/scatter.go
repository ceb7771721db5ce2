package gomlxfix

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The pure-Go backend's Scatter ops walk the whole operand from each start
// position instead of the update window, so an update window narrower than
// the operand (the gradient of GatherSlices, for instance) lands on the
// wrong elements without any error. Full-width windows, which is what the
// gradient of Gather produces, are handled correctly and go straight
// through; narrower ones are rewritten as a scatter of single elements.

type scatterFn func(operand, indices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int,
	indicesAreSorted, uniqueIndices bool) (backends.Op, error)

// ScatterSum implements backends.Builder, correct for any update window.
func (b *builder) ScatterSum(operand, indices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int,
	indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	return b.scatter("ScatterSum", b.Builder.ScatterSum, operand, indices, updates, indexVectorAxis,
		updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes, indicesAreSorted, uniqueIndices)
}

// ScatterMax implements backends.Builder; windows narrower than the operand
// are refused rather than computed wrongly.
func (b *builder) ScatterMax(operand, indices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int,
	indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	return b.scatter("ScatterMax", b.Builder.ScatterMax, operand, indices, updates, indexVectorAxis,
		updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes, indicesAreSorted, uniqueIndices)
}

// ScatterMin implements backends.Builder; windows narrower than the operand
// are refused rather than computed wrongly.
func (b *builder) ScatterMin(operand, indices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int,
	indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	return b.scatter("ScatterMin", b.Builder.ScatterMin, operand, indices, updates, indexVectorAxis,
		updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes, indicesAreSorted, uniqueIndices)
}

func (b *builder) scatter(name string, fn scatterFn, operand, indices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int,
	indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	passThrough := func() (backends.Op, error) {
		return fn(operand, indices, updates, indexVectorAxis, updateWindowAxes, insertedWindowAxes,
			scatterAxesToOperandAxes, indicesAreSorted, uniqueIndices)
	}
	os, err := b.shapeOf(operand)
	if err != nil {
		return nil, err
	}
	is, err := b.shapeOf(indices)
	if err != nil {
		return nil, err
	}
	us, err := b.shapeOf(updates)
	if err != nil {
		return nil, err
	}
	rank := os.Rank()
	var windowOperandAxes []int // operand axis of each update window axis, in order
	for a := range rank {
		if !slices.Contains(insertedWindowAxes, a) {
			windowOperandAxes = append(windowOperandAxes, a)
		}
	}
	if len(windowOperandAxes) != len(updateWindowAxes) || indexVectorAxis < 0 || indexVectorAxis > is.Rank() {
		return passThrough() // Malformed: let the backend report it.
	}
	fullWidth := true
	windowDims := make([]int, rank) // window extent per operand axis (1 for inserted axes)
	for a := range windowDims {
		windowDims[a] = 1
	}
	for i, ua := range updateWindowAxes {
		if ua < 0 || ua >= us.Rank() {
			return passThrough()
		}
		oa := windowOperandAxes[i]
		windowDims[oa] = us.Dimensions[ua]
		if us.Dimensions[ua] != os.Dimensions[oa] {
			fullWidth = false
		}
	}
	if fullWidth {
		return passThrough()
	}
	if name != "ScatterSum" {
		return nil, fmt.Errorf("%s: update windows narrower than the operand (%v in %s) are computed wrongly by the pure-Go backend and are not supported", name, windowDims, os)
	}
	if _, err := passThrough(); err != nil {
		return nil, err // Same validation as the backend.
	}

	// Updates as [NB, NW]: scatter ("batch") axes first, then window axes.
	var batchAxes []int
	for a := range us.Rank() {
		if !slices.Contains(updateWindowAxes, a) {
			batchAxes = append(batchAxes, a)
		}
	}
	nb, nw := 1, 1
	for _, a := range batchAxes {
		nb *= us.Dimensions[a]
	}
	for _, a := range updateWindowAxes {
		nw *= us.Dimensions[a]
	}
	upd := updates
	if perm := slices.Concat(batchAxes, updateWindowAxes); !slices.Equal(perm, iota(len(perm))) {
		if upd, err = b.Builder.Transpose(upd, perm...); err != nil {
			return nil, err
		}
	}
	if upd, err = b.Builder.Reshape(upd, nb*nw); err != nil {
		return nil, err
	}

	// Start indices as [NB, k] int32: index vector axis last.
	idx := indices
	idxDims := slices.Clone(is.Dimensions)
	if indexVectorAxis == is.Rank() {
		idxDims = append(idxDims, 1)
		if idx, err = b.Builder.Reshape(idx, idxDims...); err != nil {
			return nil, err
		}
	} else if indexVectorAxis != is.Rank()-1 {
		perm := slices.Concat(slices.Delete(iota(is.Rank()), indexVectorAxis, indexVectorAxis+1), []int{indexVectorAxis})
		if idx, err = b.Builder.Transpose(idx, perm...); err != nil {
			return nil, err
		}
	}
	k := len(scatterAxesToOperandAxes)
	if idx, err = b.Builder.Reshape(idx, nb, k); err != nil {
		return nil, err
	}
	if is.DType != dtypes.Int32 {
		if idx, err = b.Builder.ConvertDType(idx, dtypes.Int32); err != nil {
			return nil, err
		}
	}

	// Full start position per operand axis, [NB, rank].
	cols := make([]backends.Op, rank)
	for a := range rank {
		j := slices.Index(scatterAxesToOperandAxes, a)
		if j < 0 {
			if cols[a], err = b.filled(0, shapes.Make(dtypes.Int32, nb, 1)); err != nil {
				return nil, err
			}
			continue
		}
		if cols[a], err = b.Builder.Slice(idx, []int{0, j}, []int{nb, j + 1}, []int{1, 1}); err != nil {
			return nil, err
		}
	}
	start := cols[0]
	if rank > 1 {
		if start, err = b.Builder.Concatenate(1, cols...); err != nil {
			return nil, err
		}
	}
	// XLA skips a window that does not fit in the operand: mark those.
	limits := make([]int32, rank)
	for a := range rank {
		limits[a] = int32(os.Dimensions[a] - windowDims[a])
	}
	limitOp, err := b.Builder.Constant(limits, 1, rank)
	if err != nil {
		return nil, err
	}
	zeroRank, err := b.filled(0, shapes.Make(dtypes.Int32, 1, rank))
	if err != nil {
		return nil, err
	}
	inLo, err := b.Builder.GreaterOrEqual(start, zeroRank)
	if err != nil {
		return nil, err
	}
	inHi, err := b.Builder.LessOrEqual(start, limitOp)
	if err != nil {
		return nil, err
	}
	inside, err := b.Builder.LogicalAnd(inLo, inHi)
	if err != nil {
		return nil, err
	}
	fits, err := b.Builder.ReduceLogicalAnd(inside, 1) // [NB]
	if err != nil {
		return nil, err
	}

	// Element positions [NB, NW, rank] = start + window offset.
	offsets := make([]int32, 0, nw*rank)
	pos := make([]int, len(updateWindowAxes))
	for range nw {
		for a := range rank {
			off := 0
			if i := slices.Index(windowOperandAxes, a); i >= 0 {
				off = pos[i]
			}
			offsets = append(offsets, int32(off))
		}
		for i := len(pos) - 1; i >= 0; i-- {
			pos[i]++
			if pos[i] < us.Dimensions[updateWindowAxes[i]] {
				break
			}
			pos[i] = 0
		}
	}
	offOp, err := b.Builder.Constant(offsets, 1, nw, rank)
	if err != nil {
		return nil, err
	}
	start3, err := b.Builder.Reshape(start, nb, 1, rank)
	if err != nil {
		return nil, err
	}
	positions, err := b.Builder.Add(start3, offOp)
	if err != nil {
		return nil, err
	}
	// Skipped windows: position 0 and update 0 (ScatterSum adds nothing).
	fitsPos, err := b.Builder.BroadcastInDim(fits, shapes.Make(dtypes.Bool, nb, nw, rank), []int{0})
	if err != nil {
		return nil, err
	}
	zeroPos, err := b.filled(0, shapes.Make(dtypes.Int32, nb, nw, rank))
	if err != nil {
		return nil, err
	}
	if positions, err = b.Builder.Where(fitsPos, positions, zeroPos); err != nil {
		return nil, err
	}
	if positions, err = b.Builder.Reshape(positions, nb*nw, rank); err != nil {
		return nil, err
	}
	fitsUpd, err := b.Builder.BroadcastInDim(fits, shapes.Make(dtypes.Bool, nb, nw), []int{0})
	if err != nil {
		return nil, err
	}
	if fitsUpd, err = b.Builder.Reshape(fitsUpd, nb*nw); err != nil {
		return nil, err
	}
	zeroUpd, err := b.filled(0, shapes.Make(us.DType, nb*nw))
	if err != nil {
		return nil, err
	}
	if upd, err = b.Builder.Where(fitsUpd, upd, zeroUpd); err != nil {
		return nil, err
	}
	axes := iota(rank)
	return fn(operand, positions, upd, 1, nil, axes, axes, false, false)
}
