package gomlxfix_test

import (
	"fmt"

	"github.com/asrkit/asrkit/internal/gomlxfix"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// The gradient of a strided Slice is a Pad with interior padding, which the
// stock pure-Go backend does not implement.
func ExampleNewGoBackend() {
	backend, err := gomlxfix.NewGoBackend("ops_sequential")
	if err != nil {
		panic(err)
	}
	grad, err := ExecOnce(backend, func(x *Node) *Node {
		y := Slice(x, AxisRange(1, 6).Stride(2)) // x[1], x[3], x[5]
		return Gradient(ReduceAllSum(Square(y)), x)[0]
	}, []float32{1, 2, 3, 4, 5, 6})
	if err != nil {
		panic(err)
	}
	fmt.Println(grad.Value())
	// Output: [0 4 0 8 0 12]
}
