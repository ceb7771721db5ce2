package backend

import (
	"context"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// smallOps is a long chain of small element-wise ops on [8, 141], the shape
// of the CTC recursion: inter-op parallelism has little to work with.
func smallOps(x *Node) *Node {
	y := x
	for i := range 400 {
		a := Exp(Sub(y, ReduceAndKeep(y, ReduceMax, -1)))
		y = Add(Log(Add(a, ShiftLeft(a, 1, 0))), MulScalar(x, float64(i%3)))
	}
	return ReduceAllSum(y)
}

// BenchmarkGoConfigs compares simplego executor configurations on a
// matmul-heavy gradient and on a chain of small ops:
//
//	go test -run '^$' -bench GoConfigs -benchtime 10x ./internal/backend
//
// ("parallelism=-1" prints a line on stdout when the backend is created.)
func BenchmarkGoConfigs(b *testing.B) {
	for _, cfg := range []string{GoConfig, "parallelism=-1", GoConfig + ",parallelism=-1"} {
		be, _, err := New(context.Background(), "go:"+cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("dots/"+cfg, func(b *testing.B) {
			e := MustNewExec(be, deadlockProne)
			x := tensors.FromFlatDataAndDimensions(make([]float32, 16*64*32), 16, 64, 32)
			e.MustExec(x)
			for b.Loop() {
				e.MustExec(x)
			}
		})
		b.Run("small-ops/"+cfg, func(b *testing.B) {
			e := MustNewExec(be, smallOps)
			x := tensors.FromFlatDataAndDimensions(make([]float32, 8*141), 8, 141)
			e.MustExec(x)
			for b.Loop() {
				e.MustExec(x)
			}
		})
	}
}

// BenchmarkMatmul1024 times the [1024, 1024] x [1024, 1024] float32 product
// of BenchmarkMatmul on asrkit's pure-Go backend ("go", whose DotGeneral
// runs on internal/gemm) and on GoMLX v0.26.0's own simplego with the same
// executor configuration ("stock"), and reports GFLOP/s:
//
//	go test -run '^$' -bench Matmul1024 -count 6 ./internal/backend
func BenchmarkMatmul1024(b *testing.B) {
	ours, _, err := New(context.Background(), SpecGo)
	if err != nil {
		b.Fatal(err)
	}
	stock, err := simplego.New(GoConfig)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		be   backends.Backend
	}{{"go", ours}, {"stock", stock}} {
		b.Run(c.name, func(b *testing.B) {
			var gflops float64
			for b.Loop() {
				res, err := BenchmarkMatmul(context.Background(), c.be, 1024, 0)
				if err != nil {
					b.Fatal(err)
				}
				gflops = res.GFLOPS
			}
			b.ReportMetric(gflops, "GFLOP/s")
		})
	}
}
