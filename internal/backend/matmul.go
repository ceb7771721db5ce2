package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's own idiom for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// MatmulResult is the outcome of [BenchmarkMatmul].
type MatmulResult struct {
	// N is the matrix size: [N, N] x [N, N] in float32.
	N int
	// Compile is the time of the first run: graph builds, compilation, the
	// generation of the inputs and one multiplication.
	Compile time.Duration
	// Runs is the number of timed runs, PerRun their mean duration.
	Runs   int
	PerRun time.Duration
	// GFLOPS is 2*N^3 / PerRun, in 10^9 floating-point operations per second.
	GFLOPS float64
}

// BenchmarkMatmul times an [n, n] x [n, n] float32 matrix multiplication on
// b, running it until minTime has passed (at least 3 times). The matrices are
// generated once on the device, and each timed run multiplies them and
// reduces the product to a scalar there, so the timing measures the
// multiplication (plus a sum of n*n values) and not transfers or the
// generation; reading the scalar back waits for the device to finish.
func BenchmarkMatmul(ctx context.Context, b backends.Backend, n int, minTime time.Duration) (res MatmulResult, err error) {
	if n < 1 || n > 1<<15 {
		return res, fmt.Errorf("matmul size %d out of range [1, 32768]", n)
	}
	res.N = n
	gen, err := NewExec(b, func(seed *Node) (*Node, *Node) {
		g := seed.Graph()
		iota := IotaFull(g, shapes.Make(dtypes.Float32, n, n))
		return Sin(Add(MulScalar(iota, 1e-3), seed)), Cos(Sub(MulScalar(iota, 7e-4), seed))
	})
	if err != nil {
		return res, err
	}
	defer gen.Finalize()
	exec, err := NewExec(b, func(lhs, rhs *Node) *Node {
		return ReduceAllSum(DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil))
	})
	if err != nil {
		return res, err
	}
	defer exec.Finalize()
	start := time.Now()
	inputs, err := gen.Exec(float32(0.1))
	if err != nil {
		return res, fmt.Errorf("matmul inputs on %s: %w", b.Name(), err)
	}
	defer func() {
		for _, t := range inputs {
			t.FinalizeAll()
		}
	}()
	run := func() error {
		out, err := exec.Exec(inputs[0], inputs[1])
		if err != nil {
			return err
		}
		v, err := out[0].ValueSafe()
		if err != nil {
			return err
		}
		if _, ok := v.(float32); !ok {
			return fmt.Errorf("matmul result has type %T", v)
		}
		out[0].FinalizeAll()
		return nil
	}
	if err := run(); err != nil {
		return res, fmt.Errorf("matmul on %s: %w", b.Name(), err)
	}
	res.Compile = time.Since(start)
	start = time.Now()
	for res.Runs < 3 || time.Since(start) < minTime {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := run(); err != nil {
			return res, fmt.Errorf("matmul on %s: %w", b.Name(), err)
		}
		res.Runs++
	}
	res.PerRun = time.Since(start) / time.Duration(res.Runs)
	if res.PerRun <= 0 {
		return res, errors.New("matmul timing: zero duration")
	}
	res.GFLOPS = 2 * float64(n) * float64(n) * float64(n) / res.PerRun.Seconds() / 1e9
	return res, nil
}
