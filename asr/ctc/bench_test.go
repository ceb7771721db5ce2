package ctc

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// BenchmarkLossAndGradient times the CTC loss and its gradient with respect
// to the logits for a training-sized batch: B=8, up to 70 labels (S=141
// states), V=29 classes, T' frames, on the project's pure-Go backend. It
// reports the graph's node count and the time to build and compile it.
//
//	go test -run '^$' -bench LossAndGradient -benchtime 20x ./asr/ctc
func BenchmarkLossAndGradient(b *testing.B) {
	const batch, maxLabels, classes = 8, 70, 29
	for _, frames := range []int{100, 200, 400} {
		b.Run(fmt.Sprintf("T=%d", frames), func(b *testing.B) {
			be := goBackend(b)
			rng := rand.New(rand.NewPCG(1, uint64(frames)))
			logits := make([]float32, batch*frames*classes)
			for i := range logits {
				logits[i] = float32(rng.NormFloat64())
			}
			inLen := make([]int32, batch)
			labels := make([]int32, batch*maxLabels)
			labLen := make([]int32, batch)
			for i := range batch {
				inLen[i] = int32(frames - rng.IntN(frames/5)) // 80-100% of the bucket
				labLen[i] = int32(min(int(inLen[i])/2, maxLabels-rng.IntN(10)))
				for j := range maxLabels {
					labels[i*maxLabels+j] = int32(1 + rng.IntN(classes-1))
				}
			}

			start := time.Now()
			g := NewGraph(be, "ctc")
			x := Parameter(g, "logits", shapes.Make(dtypes.Float32, batch, frames, classes))
			il := Parameter(g, "inLen", shapes.Make(dtypes.Int32, batch))
			lb := Parameter(g, "labels", shapes.Make(dtypes.Int32, batch, maxLabels))
			ll := Parameter(g, "labLen", shapes.Make(dtypes.Int32, batch))
			loss := ReduceAllSum(Loss(x, il, lb, ll, Options{}))
			grad := Gradient(loss, x)[0]
			built := time.Since(start)
			nodes := len(g.Nodes())
			start = time.Now()
			g.Compile(loss, grad)
			compiled := time.Since(start)
			args := []any{
				tensors.FromFlatDataAndDimensions(logits, batch, frames, classes),
				tensors.FromFlatDataAndDimensions(inLen, batch),
				tensors.FromFlatDataAndDimensions(labels, batch, maxLabels),
				tensors.FromFlatDataAndDimensions(labLen, batch),
			}
			for _, out := range g.Run(args...) { // warm-up
				out.FinalizeAll()
			}
			for b.Loop() {
				for _, out := range g.Run(args...) {
					out.FinalizeAll()
				}
			}
			// After the loop: ResetTimer (implied by b.Loop) drops earlier metrics.
			b.ReportMetric(float64(nodes), "nodes")
			b.ReportMetric(built.Seconds()*1e3, "build-ms")
			b.ReportMetric(compiled.Seconds()*1e3, "compile-ms")
		})
	}
}
