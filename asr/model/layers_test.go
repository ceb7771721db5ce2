package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/ctc"
)

// TestDepthwiseConv compares the shifted-slices depthwise convolution with
// a direct float64 loop over the definition: same padding, one kernel per
// channel, plus a bias.
func TestDepthwiseConv(t *testing.T) {
	be := goBackend(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ batch, steps, channels, k int }{
		{1, 1, 3, 1}, {2, 7, 4, 3}, {3, 5, 2, 7}, {2, 20, 5, 15}, {1, 4, 3, 9},
	} {
		x := make([]float32, tc.batch*tc.steps*tc.channels)
		kernel := make([][]float32, tc.k)
		bias := make([]float32, tc.channels)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range kernel {
			kernel[i] = make([]float32, tc.channels)
			for c := range kernel[i] {
				kernel[i][c] = float32(r.NormFloat64())
			}
		}
		for c := range bias {
			bias[c] = float32(r.NormFloat64())
		}
		ctx := context.New()
		ctx.In("conv").VariableWithValue("kernel", kernel)
		ctx.In("conv").VariableWithValue("bias", bias)
		got := context.MustExecOnce(be, ctx, func(ctx *context.Context, x *Node) *Node {
			return depthwiseConv(ctx.Reuse().In("conv"), x, tc.k)
		}, tensors.FromFlatDataAndDimensions(x, tc.batch, tc.steps, tc.channels))
		flat := tensors.MustCopyFlatData[float32](got)
		half := tc.k / 2
		for b := range tc.batch {
			for s := range tc.steps {
				for c := range tc.channels {
					want := float64(bias[c])
					for k := range tc.k {
						if u := s + k - half; u >= 0 && u < tc.steps {
							want += float64(kernel[k][c]) * float64(x[(b*tc.steps+u)*tc.channels+c])
						}
					}
					idx := (b*tc.steps+s)*tc.channels + c
					if math.Abs(float64(flat[idx])-want) > 1e-5 {
						t.Fatalf("%+v: y[%d,%d,%d] = %g, want %g", tc, b, s, c, flat[idx], want)
					}
				}
			}
		}
	}
}

// TestRotaryIsRelative checks that with rotary embeddings the attention
// logit of a query and a key depends only on their distance.
func TestRotaryIsRelative(t *testing.T) {
	be := goBackend(t)
	const steps, headDim = 9, 8
	r := rand.New(rand.NewPCG(7, 8))
	q := make([]float32, headDim)
	k := make([]float32, headDim)
	for i := range q {
		q[i], k[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	logits := MustExecOnce(be, func(q, k *Node) *Node {
		g := q.Graph()
		rope := newRotary(g, steps, headDim)
		// The same query and key vector at every position: [1, T, 1, D].
		qs := rope.apply(BroadcastToDims(Reshape(q, 1, 1, 1, headDim), 1, steps, 1, headDim))
		ks := rope.apply(BroadcastToDims(Reshape(k, 1, 1, 1, headDim), 1, steps, 1, headDim))
		return Einsum("bqhd,bkhd->qk", qs, ks)
	}, q, k).Value().([][]float32)
	plain := 0.0
	for i := range q {
		plain += float64(q[i] * k[i])
	}
	if math.Abs(float64(logits[0][0])-plain) > 1e-5 {
		t.Errorf("logit at distance 0 = %g, want the plain dot product %g", logits[0][0], plain)
	}
	for i := 1; i < steps; i++ {
		for j := 1; j < steps; j++ {
			if d := math.Abs(float64(logits[i][j] - logits[i-1][j-1])); d > 1e-5 {
				t.Fatalf("logit[%d][%d] = %g but logit[%d][%d] = %g: not a function of i-j", i, j, logits[i][j], i-1, j-1, logits[i-1][j-1])
			}
		}
	}
	if math.Abs(float64(logits[0][3]-logits[3][0])) < 1e-6 {
		t.Errorf("logits at distance +3 and -3 are equal (%g): positions have no effect", logits[0][3])
	}
}

// TestEveryWeightGetsAGradient trains nothing: it checks that the CTC loss
// of a small batch gives every model weight a finite, non-zero gradient, so
// no block is disconnected from the output and nothing overflows.
func TestEveryWeightGetsAGradient(t *testing.T) {
	be := goBackend(t)
	cfg, _ := Preset("tiny")
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(3))
	data := randomBatch(rand.New(rand.NewPCG(9, 10)), 3, 45, 6, cfg.VocabSize)
	var names []string
	out, err := context.ExecOnceN(be, ctx, func(ctx *context.Context, feats, lengths, labels, labelLengths *Node) []*Node {
		lp, outLen := LogProbs(ctx, cfg, feats, lengths, true)
		loss := ReduceAllSum(ctc.Loss(lp, outLen, labels, labelLengths, ctc.Options{}))
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		var norms []*Node
		for v := range ctx.IterVariables() {
			if v.Trainable && v.InUseByGraph(feats.Graph()) {
				names = append(names, v.ScopeAndName())
			}
		}
		for _, gr := range grads {
			norms = append(norms, ReduceAllSum(Square(ConvertDType(gr, dtypes.Float64))))
		}
		return append([]*Node{loss}, norms...)
	}, data.feats, data.lengths, data.labels, data.labelLengths)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(out)-1 {
		t.Fatalf("%d trainable variables, %d gradients", len(names), len(out)-1)
	}
	if loss := out[0].Value().(float32); !(loss > 0) || math.IsInf(float64(loss), 0) {
		t.Fatalf("loss = %g", loss)
	}
	weights := 0
	for i, name := range names {
		n := out[i+1].Value().(float64)
		if !(n > 0) || math.IsInf(n, 0) {
			t.Errorf("%s: squared gradient norm %g, want finite and > 0", name, n)
		}
		weights++
	}
	if weights == 0 {
		t.Fatal("no trainable variables")
	}
}
