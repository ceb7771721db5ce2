package simplego

// asrkit: this file is new in asrkit's copy. It runs float32 and bfloat16
// DotGeneral with the packed, register-tiled kernel of internal/gemm
// instead of GoMLX's blocked kernels (dotgeneral_small.go,
// dotgeneral_large.go), which stay in use for the other dtypes and when
// one of the dotgeneral_small/large/check options is given.

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"

	"github.com/asrkit/asrkit/internal/gemm"
)

// useGemm reports whether execDotGeneral runs the product with internal/gemm.
func useGemm(backend *Backend, dtype dtypes.DType) bool {
	return backend.dotGeneralForceProblemSize == unknownProblemSize &&
		(dtype == dtypes.Float32 || dtype == dtypes.BFloat16)
}

// gemmWorkers is the number of goroutines internal/gemm may use, following
// the backend's parallelism option: 0 (no parallelism) is 1, -1 (unlimited)
// is GOMAXPROCS. The kernel starts its own goroutines, never waits for the
// backend's worker pool, and so cannot deadlock with it.
func gemmWorkers(backend *Backend) int {
	switch p := backend.workers.MaxParallelism(); {
	case p == 0:
		return 1
	case p < 0:
		return 0
	default:
		return p
	}
}

// gemmStrides returns the strides of an operand seen as a batch of
// [crossSize, contractingSize] matrices, when its layout allows it: its
// batch axes (in the order given), its cross axes (in order) and its
// contracting axes (in the order given) must each be a run of consecutive
// axes; the runs may come in any order. ok is false otherwise, and the
// operand must be transposed first.
func gemmStrides(dims []int, contractingAxes, batchAxes []int) (s gemm.Strides, ok bool) {
	rank := len(dims)
	axisType := make([]int, rank) // 0: cross, 1: contracting, 2: batch
	for _, a := range contractingAxes {
		axisType[a] = 1
	}
	for _, a := range batchAxes {
		axisType[a] = 2
	}
	// stride[a] is the distance between consecutive elements of axis a.
	stride := make([]int, rank)
	st := 1
	for a := rank - 1; a >= 0; a-- {
		stride[a] = st
		st *= dims[a]
	}
	// run checks that axes are consecutive and in order, and returns the
	// stride of the flattened group (that of its last axis).
	run := func(axes []int) (int, bool) {
		if len(axes) == 0 {
			return 0, true
		}
		for i := 1; i < len(axes); i++ {
			if axes[i] != axes[i-1]+1 {
				return 0, false
			}
		}
		return stride[axes[len(axes)-1]], true
	}
	var cross []int
	for a, t := range axisType {
		if t == 0 {
			cross = append(cross, a)
		}
	}
	var okB, okR, okC bool
	s.Batch, okB = run(batchAxes)
	s.Row, okR = run(cross)
	s.Col, okC = run(contractingAxes)
	return s, okB && okR && okC
}

// execDotGeneralGemm computes output = DotGeneral(lhs, rhs) for float32 or
// bfloat16 operands; output has the normalized shape [batchSize,
// lhsCrossSize, rhsCrossSize].
func execDotGeneralGemm(backend *Backend, lhs, rhs *Buffer, params *dotGeneralNodeData, output *Buffer) error {
	dtype := lhs.shape.DType
	batch, m, n, k := params.batchSize, params.lhsCrossSize, params.rhsCrossSize, params.contractingSize

	// Operands whose axes cannot be described by strides are transposed
	// to [batch, cross, contracting] first (GoMLX's own normalization).
	var temporary []*Buffer
	defer func() {
		for _, b := range temporary {
			backend.putBuffer(b)
		}
	}()
	normalize := dotGeneralNormalizeShapeDTypeMap.Get(dtype).(func(backend *Backend, source *Buffer, contractingAxes, batchAxes []int, batchSize, crossSize, contractingSize int) *Buffer)
	operand := func(buf *Buffer, contractingAxes, batchAxes []int, crossSize int) (*Buffer, gemm.Strides) {
		if s, ok := gemmStrides(buf.shape.Dimensions, contractingAxes, batchAxes); ok {
			return buf, s
		}
		normalized := normalize(backend, buf, contractingAxes, batchAxes, batch, crossSize, k)
		if normalized == nil {
			normalized = buf // Already in [batch, cross, contracting] order.
		} else {
			temporary = append(temporary, normalized)
		}
		return normalized, gemm.Strides{Batch: crossSize * k, Row: k, Col: 1}
	}
	a, as := operand(lhs, params.lhsContractingAxes, params.lhsBatchAxes, m)
	b, bsT := operand(rhs, params.rhsContractingAxes, params.rhsBatchAxes, n)
	// gemm wants B as [k, n]: swap the rhs's row (cross) and column
	// (contracting) strides.
	bs := gemm.Strides{Batch: bsT.Batch, Row: bsT.Col, Col: bsT.Row}

	workers := gemmWorkers(backend)
	switch dtype {
	case dtypes.Float32:
		return gemm.Float32(output.flat.([]float32), batch, m, n, k, a.flat.([]float32), as, b.flat.([]float32), bs, workers)
	case dtypes.BFloat16:
		tmp := backend.getBufferForShape(shapes.Make(dtypes.Float32, batch, m, n))
		defer backend.putBuffer(tmp)
		if err := gemm.BFloat16(tmp.flat.([]float32), batch, m, n, k, a.flat.([]bfloat16.BFloat16), as, b.flat.([]bfloat16.BFloat16), bs, workers); err != nil {
			return err
		}
		convert := convertDTypePairMap.Get(dtypes.Float32, dtypes.BFloat16).(convertFnType)
		convert(tmp, output)
		return nil
	default:
		return errors.Errorf("DotGeneral: no gemm kernel for %s", dtype)
	}
}
