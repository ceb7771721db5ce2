package model

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// residualOutputs are the layers whose output is added to a Conformer
// block's residual stream: with them at zero the block adds nothing.
var residualOutputs = []string{"/ffn1/project/", "/ffn2/project/", "/attention/output/", "/conv/pointwise/"}

// layerPrefix is the variable path prefix of encoder block i.
func layerPrefix(i int) string { return fmt.Sprintf("/%s/encoder/layer_%02d/", Scope, i) }

// Deepen turns the weights of a model with from Conformer blocks (values,
// keyed by full variable path, as a checkpoint holds them) into the weights
// of the same model with to > from blocks that computes the same function:
// the new blocks, appended on top, start as copies of the last block with
// their residual branches' output layers at zero (so each adds nothing to
// its input), and the last block's output LayerNorm moves to the new top
// block, the blocks below it getting plain LayerNorms (gain 1, offset 0),
// which leave an already normalised input unchanged. Training then grows
// the new blocks from there. values is modified in place. Only float32
// weights are handled.
func Deepen(values map[string]*tensors.Tensor, from, to int) error {
	if from < 1 || to <= from {
		return fmt.Errorf("model: deepening from %d to %d blocks: need 1 <= from < to", from, to)
	}
	last := layerPrefix(from - 1)
	var names []string
	for k := range values {
		if rest, ok := strings.CutPrefix(k, last); ok {
			names = append(names, rest)
		}
		if strings.HasPrefix(k, layerPrefix(from)) {
			return fmt.Errorf("model: deepening from %d blocks, but the weights hold %s", from, k)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("model: deepening: the weights have no block %d (%s...)", from-1, last)
	}
	for i := from; i < to; i++ {
		for _, rest := range names {
			src := values[last+rest]
			if src.DType() != dtypes.Float32 {
				return fmt.Errorf("model: deepening: %s is %s, not float32", last+rest, src.DType())
			}
			var (
				t   *tensors.Tensor
				err error
			)
			if isResidualOutput("/" + rest) {
				t = tensors.FromShape(src.Shape())
			} else if t, err = src.LocalClone(); err != nil {
				return fmt.Errorf("model: deepening: %w", err)
			}
			values[layerPrefix(i)+rest] = t
		}
	}
	// The output LayerNorm of the old top block moves to the new top; the
	// others become plain LayerNorms.
	for _, rest := range names {
		if !strings.HasPrefix(rest, "norm_out/") {
			continue
		}
		top, err := values[last+rest].LocalClone()
		if err != nil {
			return fmt.Errorf("model: deepening: %w", err)
		}
		values[layerPrefix(to-1)+rest] = top
		for i := from - 1; i < to-1; i++ {
			plain := tensors.FromShape(top.Shape()) // offset 0
			if strings.HasSuffix(rest, "/gain") {
				tensors.MutableFlatData(plain, func(flat []float32) {
					for j := range flat {
						flat[j] = 1
					}
				})
			}
			values[layerPrefix(i)+rest] = plain
		}
	}
	return nil
}

func isResidualOutput(path string) bool {
	for _, r := range residualOutputs {
		if strings.HasPrefix(path, r) {
			return true
		}
	}
	return false
}
