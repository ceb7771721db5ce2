package model

import (
	gocontext "context"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/asrkit/asrkit/asr/ctc"
	"github.com/asrkit/asrkit/internal/backend"
)

// goBackend returns the project's pure-Go backend (with the gomlxfix fixes,
// in its deadlock-free configuration).
func goBackend(tb testing.TB) backends.Backend {
	tb.Helper()
	b, _, err := backend.New(gocontext.Background(), backend.SpecGo)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// trainStepOptions configure the test training step.
type trainStepOptions struct {
	learningRate float64 // peak learning rate
	warmup       int     // steps of linear warm-up (from learningRate/warmup)
	weightDecay  float64 // AdamW decoupled weight decay
	clipNorm     float64 // global gradient-norm clip
}

// batch is one padded training batch.
type batch struct {
	feats, lengths, labels, labelLengths *tensors.Tensor
}

// newTrainStep builds a training step like asr/train's: mean CTC loss over
// the batch, gradients of every model weight, global-norm clipping, AdamW
// with a linear warm-up. It returns a function that runs one step and
// returns the mean loss and the gradient norm before clipping.
func newTrainStep(tb testing.TB, be backends.Backend, ctx *context.Context, cfg Config, o trainStepOptions) func(b batch) (loss, gradNorm float32) {
	tb.Helper()
	opt := optimizers.Adam().LearningRate(o.learningRate).WeightDecay(o.weightDecay).Epsilon(1e-8).Done()
	withGrads, ok := opt.(interface {
		UpdateGraphWithGradients(ctx *context.Context, grads []*Node, lossDType dtypes.DType)
	})
	if !ok {
		tb.Fatal("GoMLX's Adam no longer accepts precomputed gradients")
	}
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, feats, lengths, labels, labelLengths *Node) (*Node, *Node) {
		g := feats.Graph()
		logProbs, outLengths := LogProbs(ctx, cfg, feats, lengths, true)
		loss := ReduceAllMean(ctc.Loss(logProbs, outLengths, labels, labelLengths, ctc.Options{ZeroInfinity: true}))
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		var sumSquares *Node
		for _, gr := range grads {
			s := ReduceAllSum(Square(gr))
			if sumSquares == nil {
				sumSquares = s
			} else {
				sumSquares = Add(sumSquares, s)
			}
		}
		norm := Sqrt(sumSquares)
		scale := Min(ScalarOne(g, dtypes.Float32), Div(Scalar(g, dtypes.Float32, o.clipNorm), Add(norm, Scalar(g, dtypes.Float32, 1e-6))))
		for i := range grads {
			grads[i] = Mul(grads[i], scale)
		}
		withGrads.UpdateGraphWithGradients(ctx, grads, loss.DType())
		if o.warmup > 0 {
			// Warm-up: scale the learning-rate variable for the next step.
			step := ConvertDType(optimizers.GetGlobalStepVar(ctx).ValueGraph(g), dtypes.Float32)
			frac := Min(ScalarOne(g, dtypes.Float32), DivScalar(AddScalar(step, 1), float64(o.warmup)))
			optimizers.LearningRateVar(ctx, dtypes.Float32, o.learningRate).SetValueGraph(MulScalar(frac, o.learningRate))
		}
		return loss, norm
	})
	if err != nil {
		tb.Fatal(err)
	}
	if o.warmup > 0 {
		optimizers.LearningRateVar(ctx, dtypes.Float32, o.learningRate/float64(o.warmup))
	}
	return func(b batch) (float32, float32) {
		tb.Helper()
		out, err := exec.Exec(b.feats, b.lengths, b.labels, b.labelLengths)
		if err != nil {
			tb.Fatal(err)
		}
		return out[0].Value().(float32), out[1].Value().(float32)
	}
}
