package ctc_test

import (
	"context"
	"fmt"

	"github.com/asrkit/asrkit/asr/ctc"
	"github.com/asrkit/asrkit/internal/backend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// The loss of the label sequence [1] over two frames of uniform scores on
// three classes: three alignments (1 1, 1 _, _ 1) of probability 1/9 each.
func ExampleLoss() {
	b, _, err := backend.New(context.Background(), "go")
	if err != nil {
		panic(err)
	}
	loss, err := ExecOnce(b, func(logits, inputLengths, labels, labelLengths *Node) *Node {
		return ctc.Loss(logits, inputLengths, labels, labelLengths, ctc.Options{})
	}, [][][]float32{{{0, 0, 0}, {0, 0, 0}}}, []int32{2}, [][]int32{{1}}, []int32{1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", loss.Value()) // -ln(3/9)
	// Output: [1.0986]
}
