package train

import (
	"math"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the ops unqualified.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/asrkit/asrkit/asr/ctc"
	"github.com/asrkit/asrkit/asr/model"
)

// Scopes of the trainer's own variables. The model's are under model.Scope.
const (
	// OptimizerScope holds AdamW's moments: /optimizer/m/<variable path> and
	// /optimizer/v/<variable path>.
	OptimizerScope = "optimizer"
	// AccumulatorScope holds the gradient sums of gradient accumulation;
	// they are zero between optimizer steps and never saved.
	AccumulatorScope = "accumulator"
)

// adamW is the optimizer, with its settings fixed when the graphs are built.
//
// It is AdamW (Loshchilov & Hutter 2019) on gradients of the summed CTC
// loss divided by the number of label tokens, after global-norm clipping:
//
//	m ← β1·m + (1-β1)·g          v ← β2·v + (1-β2)·g²
//	w ← w − lr·( m/(1-β1^t) / (sqrt(v/(1-β2^t)) + ε) + λ·w )
//
// with λ = weight decay for matrices and kernels (rank ≥ 2) and 0 for
// biases and normalisation gains and offsets. The learning rate and both
// bias corrections are inputs of the graph, computed in Go for each step.
// When the gradient norm is not finite (NaN or Inf), no variable changes.
type adamW struct {
	beta1, beta2, epsilon float64
	weightDecay           float64
	clipNorm              float64 // 0: no clipping
}

func newAdamW(s Settings) adamW {
	return adamW{beta1: s.Beta1, beta2: s.Beta2, epsilon: s.Epsilon, weightDecay: *s.WeightDecay, clipNorm: *s.ClipGradNorm}
}

// hyper returns the per-step inputs of the update: the learning rate and
// the two bias corrections 1/(1-β^t), as float32 scalars.
func (o adamW) hyper(step int64, lr float64) []*tensors.Tensor {
	t := float64(step)
	return []*tensors.Tensor{
		tensors.FromValue(float32(lr)),
		tensors.FromValue(float32(1 / (1 - math.Pow(o.beta1, t)))),
		tensors.FromValue(float32(1 / (1 - math.Pow(o.beta2, t)))),
	}
}

// numHyper is the number of hyper inputs.
const numHyper = 3

// isModelVar reports whether v is a trainable model weight.
func isModelVar(v *context.Variable) bool {
	s := v.Scope()
	return v.Trainable && (s == "/"+model.Scope || strings.HasPrefix(s, "/"+model.Scope+"/"))
}

// modelVars returns the trainable model variables, in the context's order;
// with g, only those the graph uses.
func modelVars(ctx *context.Context, g *Graph) []*context.Variable {
	var out []*context.Variable
	for v := range ctx.IterVariables() {
		if isModelVar(v) && (g == nil || v.InUseByGraph(g)) {
			out = append(out, v)
		}
	}
	return out
}

// slot returns the trainer variable of v under scope/kind (zero-initialised,
// not trainable).
func slot(ctx *context.Context, scope string, v *context.Variable) *context.Variable {
	return ctx.InAbsPath("/"+scope+v.Scope()).Checked(false).WithInitializer(initializers.Zero).
		VariableWithShape(v.Name(), v.Shape()).SetTrainable(false)
}

// lossSum builds the model in training mode, computing in precision, and
// returns the CTC loss summed over the batch and the number of label
// tokens, both float32 scalars (the log-probabilities and the loss are
// float32 in every precision). Padding rows (length 0, no labels)
// contribute 0.
func lossSum(ctx *context.Context, cfg model.Config, precision model.Precision, feats, lengths, labels, labelLengths *Node) (sum, tokens *Node) {
	lp, outLengths := model.LogProbsWith(ctx.Checked(false), cfg, feats, lengths, model.Options{Training: true, Precision: precision})
	perUtt := ctc.Loss(lp, outLengths, labels, labelLengths, ctc.Options{ZeroInfinity: true})
	sum = ReduceAllSum(perUtt)
	tokens = ConvertDType(ReduceAllSum(labelLengths), dtypes.Float32)
	return sum, tokens
}

// update applies one AdamW step to vars given the gradients of the summed
// loss and the token count they were summed over, and returns the global
// gradient norm before clipping.
func (o adamW) update(ctx *context.Context, vars []*context.Variable, grads []*Node, tokens *Node, hyper []*Node) *Node {
	g := tokens.Graph()
	inv := Inverse(Max(tokens, ScalarOne(g, dtypes.Float32)))
	var sumSq *Node
	for i := range grads {
		grads[i] = Mul(grads[i], inv)
		s := ReduceAllSum(Square(grads[i]))
		if sumSq == nil {
			sumSq = s
		} else {
			sumSq = Add(sumSq, s)
		}
	}
	norm := Sqrt(sumSq)
	finite := IsFinite(norm)
	scale := ScalarOne(g, dtypes.Float32)
	if o.clipNorm > 0 {
		scale = Min(scale, Div(Scalar(g, dtypes.Float32, o.clipNorm), AddScalar(norm, 1e-6)))
	}
	lr, bc1, bc2 := hyper[0], hyper[1], hyper[2]
	keep := func(cond *Node, x *Node) *Node { return BroadcastToDims(cond, x.Shape().Dimensions...) }
	for i, v := range vars {
		w := v.ValueGraph(g)
		mVar, vVar := slot(ctx, OptimizerScope+"/m", v), slot(ctx, OptimizerScope+"/v", v)
		m, s := mVar.ValueGraph(g), vVar.ValueGraph(g)
		gr := Mul(grads[i], scale)
		m2 := Add(MulScalar(m, o.beta1), MulScalar(gr, 1-o.beta1))
		s2 := Add(MulScalar(s, o.beta2), MulScalar(Square(gr), 1-o.beta2))
		step := Div(Mul(m2, bc1), AddScalar(Sqrt(Mul(s2, bc2)), o.epsilon))
		if o.weightDecay > 0 && v.Shape().Rank() >= 2 {
			step = Add(step, MulScalar(w, o.weightDecay))
		}
		w2 := Sub(w, Mul(lr, step))
		ok := keep(finite, w)
		v.SetValueGraph(Where(ok, w2, w))
		mVar.SetValueGraph(Where(ok, m2, m))
		vVar.SetValueGraph(Where(ok, s2, s))
	}
	return norm
}

// stepGraph is one whole training step on one batch: loss, gradients,
// clipping and the AdamW update. Inputs: features, lengths, labels, label
// lengths, then the hyper inputs. Outputs: loss sum, tokens, gradient norm.
// The model computes in precision; the variables, their gradients and the
// update are float32.
func stepGraph(cfg model.Config, precision model.Precision, o adamW) func(ctx *context.Context, in []*Node) []*Node {
	return func(ctx *context.Context, in []*Node) []*Node {
		sum, tokens := lossSum(ctx, cfg, precision, in[0], in[1], in[2], in[3])
		g := sum.Graph()
		vars := modelVars(ctx, g)
		values := make([]*Node, len(vars))
		for i, v := range vars {
			values[i] = v.ValueGraph(g)
		}
		grads := Gradient(sum, values...)
		norm := o.update(ctx, vars, grads, tokens, in[4:4+numHyper])
		return []*Node{sum, tokens, norm}
	}
}

// accumulateGraph adds one batch's loss gradients to the accumulators
// (gradient accumulation). Inputs: features, lengths, labels, label
// lengths. Outputs: loss sum, tokens.
func accumulateGraph(cfg model.Config, precision model.Precision) func(ctx *context.Context, in []*Node) []*Node {
	return func(ctx *context.Context, in []*Node) []*Node {
		sum, tokens := lossSum(ctx, cfg, precision, in[0], in[1], in[2], in[3])
		g := sum.Graph()
		vars := modelVars(ctx, g)
		values := make([]*Node, len(vars))
		for i, v := range vars {
			values[i] = v.ValueGraph(g)
		}
		grads := Gradient(sum, values...)
		for i, v := range vars {
			a := slot(ctx, AccumulatorScope, v)
			a.SetValueGraph(Add(a.ValueGraph(g), grads[i]))
		}
		tv := tokenAccumulator(ctx)
		tv.SetValueGraph(Add(tv.ValueGraph(g), tokens))
		return []*Node{sum, tokens}
	}
}

var shapesScalarF32 = shapes.Make(dtypes.Float32)

func tokenAccumulator(ctx *context.Context) *context.Variable {
	return ctx.InAbsPath("/"+AccumulatorScope).Checked(false).WithInitializer(initializers.Zero).
		VariableWithShape("#tokens", shapesScalarF32).SetTrainable(false)
}

// applyGraph turns the accumulated gradients into one AdamW step and clears
// the accumulators. Inputs: the hyper inputs. Output: gradient norm.
func applyGraph(o adamW) func(ctx *context.Context, in []*Node) []*Node {
	return func(ctx *context.Context, in []*Node) []*Node {
		g := in[0].Graph()
		vars := modelVars(ctx, nil)
		grads := make([]*Node, len(vars))
		for i, v := range vars {
			a := slot(ctx, AccumulatorScope, v)
			grads[i] = a.ValueGraph(g)
			a.SetValueGraph(ZerosLike(grads[i]))
		}
		tv := tokenAccumulator(ctx)
		tokens := tv.ValueGraph(g)
		tv.SetValueGraph(ZerosLike(tokens))
		return []*Node{o.update(ctx, vars, grads, tokens, in[:numHyper])}
	}
}

// evalGraph runs the model in inference mode, in float32 whatever the
// training precision (as inference does). Inputs: features, lengths,
// labels, label lengths. Outputs: log-probs [B, T', V], output lengths [B],
// per-utterance CTC loss [B].
func evalGraph(cfg model.Config) func(ctx *context.Context, in []*Node) []*Node {
	return func(ctx *context.Context, in []*Node) []*Node {
		lp, outLengths := model.LogProbs(ctx.Checked(false), cfg, in[0], in[1], false)
		loss := ctc.Loss(lp, outLengths, in[2], in[3], ctc.Options{ZeroInfinity: true})
		return []*Node{lp, outLengths, loss}
	}
}
