package simplego

// asrkit: benchmarks of the ops asrkit changed in its copy.

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// BenchmarkBroadcastMul times element-wise products that broadcast one
// operand, as layer normalisation and bias additions do, on [8, 100, 144]:
//
//	go test -run '^$' -bench BroadcastMul ./internal/simplego
func BenchmarkBroadcastMul(b *testing.B) {
	backend, err := New("ops_sequential")
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Finalize()
	x := tensors.FromFlatDataAndDimensions(make([]float32, 8*100*144), 8, 100, 144)
	for name, dims := range map[string][]int{"last axis [144]": {1, 1, 144}, "per frame [8,100,1]": {8, 100, 1}} {
		y := tensors.FromFlatDataAndDimensions(make([]float32, dims[0]*dims[1]*dims[2]), dims...)
		b.Run(name, func(b *testing.B) {
			exec, err := graph.NewExec(backend, func(x, y *graph.Node) *graph.Node { return graph.Mul(x, y) })
			if err != nil {
				b.Fatal(err)
			}
			defer exec.Finalize()
			for b.Loop() {
				out, err := exec.Exec(x, y)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
		})
	}
}

// BenchmarkReduceSum times sums of [8, 100, 144] over its last axis (as
// layer normalisation does) and over its first two (as the gradient of a
// bias does):
//
//	go test -run '^$' -bench ReduceSum ./internal/simplego
func BenchmarkReduceSum(b *testing.B) {
	backend, err := New("ops_sequential")
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Finalize()
	x := tensors.FromFlatDataAndDimensions(make([]float32, 8*100*144), 8, 100, 144)
	for name, axes := range map[string][]int{"last axis": {2}, "first axes": {0, 1}} {
		b.Run(name, func(b *testing.B) {
			exec, err := graph.NewExec(backend, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, axes...) })
			if err != nil {
				b.Fatal(err)
			}
			defer exec.Finalize()
			for b.Loop() {
				out, err := exec.Exec(x)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
		})
	}
}
