package model

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX model code reads best with the graph ops unqualified.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Scope is the context scope that holds every model variable ("/model/...").
// LogProbs enters it itself: pass the root context.
const Scope = "model"

// maskedLogit is added to the attention logits of padded keys. It is large
// enough that exp underflows to exactly zero in float32, and small enough
// that adding it to a logit stays finite.
const maskedLogit = -1e9

// LogProbs builds the acoustic model on ctx and returns per-frame CTC
// log-probabilities [B, T', V] (float32, log-softmax over V) and the number
// of valid output frames per utterance, outLengths [B] int32 =
// ceil(lengths/4) (see OutputLength), with T' = OutputLength(T).
//
// feats are normalised log-mel features [B, T, cfg.InputDim] float32 and
// lengths [B] int32 the number of valid frames of each utterance (clamped
// to [0, T]); frames at or past an utterance's length are ignored, so an utterance gives the same
// log-probs alone and padded inside a batch. Output frames at or past
// outLengths hold finite values that callers must ignore.
//
// Dropout is applied only when training is true. The variables live under
// ctx.In(Scope); zero fields of cfg take their preset's values. The graph
// computes in float32; [LogProbsWith] can compute in bfloat16.
//
// Like every GoMLX graph function, LogProbs panics on invalid input (an
// invalid cfg, or inputs of the wrong shape or dtype); context.Exec turns
// the panic into an error. Call cfg.Validate first to get the error early.
func LogProbs(ctx *context.Context, cfg Config, feats, lengths *Node, training bool) (logProbs, outLengths *Node) {
	m := newBuilder(ctx, cfg, training, nil)
	return m.logProbs(feats, lengths)
}

// builder holds what every block needs while the graph is built.
type builder struct {
	ctx      *context.Context // the model's root scope
	cfg      Config           // resolved
	training bool
	compute  dtypes.DType // of the matrix products (see Precision); variables are float32
	trace    func(name string, x *Node)
}

func newBuilder(ctx *context.Context, cfg Config, training bool, trace func(string, *Node)) *builder {
	c, err := cfg.Resolve()
	if err != nil {
		panic(err)
	}
	return &builder{ctx: ctx.In(Scope), cfg: c, training: training, compute: dtypes.Float32, trace: trace}
}

// record documents (and asserts) the shape after a block.
func (m *builder) record(name string, x *Node, dims ...int) {
	x.AssertDims(dims...)
	if m.trace != nil {
		m.trace(name, x)
	}
}

func (m *builder) logProbs(feats, lengths *Node) (logProbs, outLengths *Node) {
	c := m.cfg
	if feats.Rank() != 3 || feats.Shape().Dim(2) != c.InputDim || feats.DType() != dtypes.Float32 {
		panic(fmt.Errorf("model: features must be float32 [batch, frames, %d], got %s", c.InputDim, feats.Shape()))
	}
	batch, frames := feats.Shape().Dim(0), feats.Shape().Dim(1)
	if !lengths.Shape().Equal(shapes.Make(dtypes.Int32, batch)) {
		panic(fmt.Errorf("model: lengths must be int32 [%d] to match features %s, got %s", batch, feats.Shape(), lengths.Shape()))
	}
	m.record("input", feats, batch, frames, c.InputDim)
	lengths = ClipScalar(lengths, 0, float64(frames))

	x, outLengths := m.subsample(m.ctx.In("subsampling"), feats, lengths)
	steps := OutputLength(frames)
	// The residual stream is float32 in every precision: each branch of a
	// block computes in m.compute and is added back in float32.

	mask := frameMask(outLengths, steps)           // [B, T', 1] float: 1 on valid frames
	keyBias := attentionKeyBias(outLengths, steps) // [B, 1, 1, T']: 0 or maskedLogit
	rope := newRotary(x.Graph(), steps, c.DModel/c.NumHeads)

	x = f32(m.dropout(x))
	for i := range c.NumLayers {
		x = m.conformerBlock(m.ctx.In("encoder").Inf("layer_%02d", i), x, mask, keyBias, rope)
		m.record(fmt.Sprintf("encoder/layer_%02d", i), x, batch, steps, c.DModel)
	}

	logits := m.dense(m.ctx.In("output"), x, c.VocabSize) // float32: x is the normalised residual stream
	logProbs = LogSoftmax(logits, -1)
	m.record("output", logProbs, batch, steps, c.VocabSize)
	return logProbs, outLengths
}

// subsample reduces the frame rate by 4 with two stride-2 stages, each of
// which stacks pairs of frames and applies Dense + ReLU. On the pure-Go
// backend this is several times faster than a strided convolution and
// needs no convolution gradient. Frames past each utterance's length are
// zeroed before each stage, so the last (partial) pair sees zeros exactly as
// it would if the utterance were alone.
func (m *builder) subsample(ctx *context.Context, x, lengths *Node) (*Node, *Node) {
	c := m.cfg
	g := x.Graph()
	batch, frames := x.Shape().Dim(0), x.Shape().Dim(1)
	steps := OutputLength(frames)

	x = Mul(x, frameMask(lengths, frames))
	if pad := steps*SubsamplingFactor - frames; pad > 0 {
		x = Concatenate([]*Node{x, Zeros(g, shapes.Make(x.DType(), batch, pad, c.InputDim))}, 1)
	}
	x = m.lowp(Reshape(x, batch, 2*steps, 2*c.InputDim))
	x = activations.Relu(m.dense(ctx.In("stage1"), x, c.SubsamplingDim))
	halfLengths := halve(lengths)
	x = Mul(x, m.lowp(frameMask(halfLengths, 2*steps)))
	m.record("subsampling/stage1", x, batch, 2*steps, c.SubsamplingDim)

	x = Reshape(x, batch, steps, 2*c.SubsamplingDim)
	x = activations.Relu(m.dense(ctx.In("stage2"), x, c.DModel))
	outLengths := halve(halfLengths)
	x = Mul(x, m.lowp(frameMask(outLengths, steps)))
	m.record("subsampling/stage2", x, batch, steps, c.DModel)
	return x, outLengths
}

// halve returns ceil(n/2) for int32 lengths.
func halve(n *Node) *Node {
	return Div(AddScalar(n, 1), Scalar(n.Graph(), n.DType(), 2))
}

// conformerBlock is one Conformer block (Gulati et al. 2020) with pre-norm
// residual branches: ½·FFN, self-attention, convolution module, ½·FFN and a
// final LayerNorm. x and the result are float32; the branches return
// m.compute.
func (m *builder) conformerBlock(ctx *context.Context, x, mask, keyBias *Node, rope *rotary) *Node {
	x = Add(x, MulScalar(f32(m.feedForward(ctx.In("ffn1"), x)), 0.5))
	x = Add(x, f32(m.dropout(m.selfAttention(ctx.In("attention"), x, keyBias, rope))))
	x = Add(x, f32(m.dropout(m.convModule(ctx.In("conv"), x, mask))))
	x = Add(x, MulScalar(f32(m.feedForward(ctx.In("ffn2"), x)), 0.5))
	return m.layerNorm(ctx.In("norm_out"), x)
}

// feedForward is LayerNorm → Dense(FFNDim) → Swish → dropout → Dense(DModel) → dropout.
func (m *builder) feedForward(ctx *context.Context, x *Node) *Node {
	y := m.lowp(m.layerNorm(ctx.In("norm"), x))
	y = activations.Swish(m.dense(ctx.In("hidden"), y, m.cfg.FFNDim))
	y = m.dropout(y)
	y = m.dense(ctx.In("project"), y, m.cfg.DModel)
	return m.dropout(y)
}

// selfAttention is multi-head self-attention with rotary position
// embeddings (RoPE, Su et al. 2021) on queries and keys, so that the logits
// depend only on relative positions. Padded keys get maskedLogit. The
// projections and the two attention products compute in m.compute; the
// rotation, the logits' mask and the softmax in float32.
func (m *builder) selfAttention(ctx *context.Context, x, keyBias *Node, rope *rotary) *Node {
	c := m.cfg
	batch, steps := x.Shape().Dim(0), x.Shape().Dim(1)
	heads, headDim := c.NumHeads, c.DModel/c.NumHeads

	y := m.lowp(m.layerNorm(ctx.In("norm"), x))
	// One projection for queries, keys and values: a single wide matrix
	// product keeps both cores busy on the pure-Go backend even for one
	// utterance, where three [T', D]x[D, D] products would each run on one.
	qkv := m.denseSplit(ctx.In("qkv"), y, 3, c.DModel)
	split := func(x *Node) *Node { return Reshape(x, batch, steps, heads, headDim) }
	// The 1/sqrt(headDim) logit scale is folded into the queries.
	q := m.lowp(MulScalar(rope.apply(f32(split(qkv[0]))), 1/math.Sqrt(float64(headDim))))
	k := m.lowp(rope.apply(f32(split(qkv[1]))))
	v := split(qkv[2])

	logits := f32(Einsum("bqhd,bkhd->bhqk", q, k)) // [B, H, T', T']
	logits = Add(logits, keyBias)
	weights := m.lowp(Softmax(logits, -1))
	out := Einsum("bhqk,bkhd->bqhd", weights, v)
	out = Reshape(out, batch, steps, c.DModel)
	return m.dense(ctx.In("output"), out, c.DModel)
}

// convModule is the Conformer convolution module: LayerNorm → pointwise GLU →
// zero padded frames → depthwise convolution over time → LayerNorm → Swish →
// pointwise Dense. NeMo uses BatchNorm after the depthwise convolution;
// LayerNorm is used here so that no statistic depends on padding or on the
// other utterances of a batch. The GLU and pointwise layers compute in
// m.compute; the depthwise convolution (element-wise arithmetic whose
// kernel gradient sums over every frame) and its LayerNorm in float32.
func (m *builder) convModule(ctx *context.Context, x, mask *Node) *Node {
	d := m.cfg.DModel
	y := m.lowp(m.layerNorm(ctx.In("norm"), x))
	glu := m.denseSplit(ctx.In("glu"), y, 2, d) // value and gate
	y = f32(Mul(glu[0], Sigmoid(glu[1])))
	y = Mul(y, mask)
	y = depthwiseConv(ctx.In("depthwise"), y, m.cfg.ConvKernel)
	y = activations.Swish(m.layerNorm(ctx.In("norm_depthwise"), y))
	return m.dense(ctx.In("pointwise"), m.lowp(y), d)
}

// depthwiseConv convolves each channel of x [B, T, C] over time with its own
// kernel of odd size k, "same" zero padding, plus a bias, in x's dtype
// (float32 in the model). It is written as a
// sum of k shifted copies (Concatenate + Slice + Mul + Add): the same
// arithmetic as a grouped convolution, but made of ops that the pure-Go
// backend runs at memory speed and differentiates without ConvGeneral.
func depthwiseConv(ctx *context.Context, x *Node, k int) *Node {
	g := x.Graph()
	batch, steps, channels := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	kernel := ctx.VariableWithShape("kernel", shapes.Make(x.DType(), k, channels)).ValueGraph(g)
	bias := ctx.VariableWithShape("bias", shapes.Make(x.DType(), channels)).ValueGraph(g)

	half := k / 2
	if half > 0 {
		zeros := Zeros(g, shapes.Make(x.DType(), batch, half, channels))
		x = Concatenate([]*Node{zeros, x, zeros}, 1)
	}
	var out *Node
	for tap := range k {
		shifted := Slice(x, AxisRange(), AxisRange(tap, tap+steps))
		w := Reshape(Slice(kernel, AxisElem(tap)), 1, 1, channels)
		term := Mul(shifted, w)
		if out == nil {
			out = term
		} else {
			out = Add(out, term)
		}
	}
	return Add(out, Reshape(bias, 1, 1, channels))
}

// denseSplit applies one dense layer with n*width outputs and splits the
// result along the last axis into n parts of width each.
func (m *builder) denseSplit(ctx *context.Context, x *Node, n, width int) []*Node {
	y := m.dense(ctx, x, n*width)
	parts := make([]*Node, n)
	for i := range parts {
		spec := make([]SliceAxisSpec, y.Rank())
		for a := range spec {
			spec[a] = AxisRange()
		}
		spec[len(spec)-1] = AxisRange(i*width, (i+1)*width)
		parts[i] = Slice(y, spec...)
	}
	return parts
}

// dense is a linear layer with bias on the last axis of x, computed in
// x's dtype. Its variables are those of GoMLX's layers.Dense
// (ctx/dense/weights [in, out] and ctx/dense/biases [out]), but float32
// whatever x's dtype: in a lower precision they are rounded where they are
// read, and the bias is broadcast before it is rounded, so that its
// gradient is summed over the batch and frames in float32. For a float32 x
// the graph is layers.Dense's.
func (m *builder) dense(ctx *context.Context, x *Node, out int) *Node {
	g := x.Graph()
	ctx = ctx.In("dense")
	in := x.Shape().Dim(-1)
	weights := ctx.VariableWithShape("weights", shapes.Make(dtypes.Float32, in, out)).ValueGraph(g)
	bias := ctx.VariableWithShape("biases", shapes.Make(dtypes.Float32, out)).ValueGraph(g)
	axes := "abcdefgh"[:x.Rank()-1]
	y := Einsum(axes+"y,yz->"+axes+"z", x, ConvertDType(weights, x.DType()))
	expanded := make([]int, y.Rank())
	for i := range expanded {
		expanded[i] = 1
	}
	expanded[len(expanded)-1] = out
	b := Reshape(bias, expanded...)
	if x.DType() != dtypes.Float32 {
		b = ConvertDType(BroadcastToDims(b, y.Shape().Dimensions...), x.DType())
	}
	return Add(y, b)
}

// lowp converts x to the compute dtype (a no-op in float32).
func (m *builder) lowp(x *Node) *Node { return ConvertDType(x, m.compute) }

// f32 converts x to float32 (a no-op when it is).
func f32(x *Node) *Node { return ConvertDType(x, dtypes.Float32) }

// layerNorm is LayerNorm over the last axis, in float32 (x must be float32).
func (m *builder) layerNorm(ctx *context.Context, x *Node) *Node {
	return layers.LayerNormalization(ctx, x, -1).Epsilon(m.cfg.LayerNormEpsilon).Done()
}

// dropout zeroes each value with probability cfg.Dropout during training
// and scales the rest by 1/(1-rate); it is the identity otherwise.
func (m *builder) dropout(x *Node) *Node {
	rate := *m.cfg.Dropout
	if !m.training || rate == 0 {
		return x
	}
	g := x.Graph()
	// The random numbers are float32 in every precision.
	uniform := m.ctx.RandomUniform(g, shapes.Make(dtypes.Float32, x.Shape().Dimensions...))
	keep := GreaterOrEqual(uniform, Scalar(g, dtypes.Float32, rate))
	scale := ConvertDType(keep, x.DType())
	return Mul(x, MulScalar(scale, 1/(1-rate)))
}

// frameMask returns a float32 [B, T, 1] mask that is 1 for frames before
// each utterance's length and 0 after.
func frameMask(lengths *Node, steps int) *Node {
	g := lengths.Graph()
	positions := Iota(g, shapes.Make(lengths.DType(), 1, steps), 1)
	valid := LessThan(positions, InsertAxes(lengths, -1)) // [B, T]
	return InsertAxes(ConvertDType(valid, dtypes.Float32), -1)
}

// attentionKeyBias returns [B, 1, 1, T]: 0 for valid keys, maskedLogit for
// padded ones, to be added to attention logits [B, H, Tq, Tk].
func attentionKeyBias(lengths *Node, steps int) *Node {
	invalid := OneMinus(frameMask(lengths, steps)) // [B, T, 1]
	batch := lengths.Shape().Dim(0)
	return Reshape(MulScalar(invalid, maskedLogit), batch, 1, 1, steps)
}

// rotary holds the constant tables of rotary position embeddings for one
// sequence length and head width.
type rotary struct {
	cos, sin *Node // [1, T, 1, D]
}

// newRotary builds the tables for positions 0..steps-1 and frequencies
// 10000^(-2i/headDim), in the "rotate half" layout: dimension i and
// i+headDim/2 form a rotated pair.
func newRotary(g *Graph, steps, headDim int) *rotary {
	half := headDim / 2
	cos := make([]float32, steps*headDim)
	sin := make([]float32, steps*headDim)
	for t := range steps {
		for i := range half {
			angle := float64(t) * math.Pow(10000, -2*float64(i)/float64(headDim))
			c, s := float32(math.Cos(angle)), float32(math.Sin(angle))
			cos[t*headDim+i], cos[t*headDim+half+i] = c, c
			sin[t*headDim+i], sin[t*headDim+half+i] = s, s
		}
	}
	return &rotary{
		cos: Reshape(Const(g, cos), 1, steps, 1, headDim),
		sin: Reshape(Const(g, sin), 1, steps, 1, headDim),
	}
}

// apply rotates x [B, T, H, D] by its position: x·cos + rotateHalf(x)·sin,
// where rotateHalf(x) = (-x[D/2:], x[:D/2]).
func (r *rotary) apply(x *Node) *Node {
	half := x.Shape().Dim(-1) / 2
	first := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, half))
	second := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(half, 2*half))
	rotated := Concatenate([]*Node{Neg(second), first}, -1)
	return Add(Mul(x, r.cos), Mul(rotated, r.sin))
}
