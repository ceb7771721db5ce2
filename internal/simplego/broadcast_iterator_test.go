package simplego

// asrkit: a test of broadcastIterator's fast path along the last axis
// (exec_binary.go).

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TestBroadcastIterator checks the flat indices against their definition
// (the source index of each output element, with broadcast axes pinned to
// 0) for random shapes of rank 0 to 4.
func TestBroadcastIterator(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		rank := r.IntN(5)
		to := make([]int, rank)
		from := make([]int, rank)
		for a := range rank {
			to[a] = 1 + r.IntN(4)
			from[a] = to[a]
			if r.IntN(2) == 0 {
				from[a] = 1
			}
		}
		toShape, fromShape := shapes.Make(dtypes.Float32, to...), shapes.Make(dtypes.Float32, from...)
		it := newBroadcastIterator(fromShape, toShape)
		idx := make([]int, rank)
		for o := range toShape.Size() {
			// Source index of output element o.
			want, stride := 0, 1
			for a := rank - 1; a >= 0; a-- {
				if from[a] != 1 {
					want += idx[a] * stride
				}
				stride *= from[a]
			}
			if got := it.Next(); got != want {
				t.Fatalf("from %v to %v: element %d (%v): flat index %d, want %d", from, to, o, idx, got, want)
			}
			for a := rank - 1; a >= 0; a-- {
				idx[a]++
				if idx[a] < to[a] {
					break
				}
				idx[a] = 0
			}
		}
	}
}
