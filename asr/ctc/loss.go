package ctc

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's own idiom for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// ImpossibleLoss is the loss of an example whose labels cannot be aligned to
// its frames (too few frames), unless Options.ZeroInfinity is set. Its
// gradient is zero.
const ImpossibleLoss = 1e30

// logZero stands for log(0) in the recursions: finite, so that sums and
// differences never produce NaN, and small enough that exp(logZero - x) is 0
// for any reachable log-probability x.
const logZero = -1e30

// Options configure [Loss]. The zero value is the usual configuration: blank
// is class 0, impossible examples get ImpossibleLoss.
type Options struct {
	// Blank is the class index of the CTC blank (default 0).
	Blank int
	// ZeroInfinity gives impossible examples (fewer frames than labels plus
	// repeats) a loss of 0 instead of ImpossibleLoss. Their gradient is zero
	// either way.
	ZeroInfinity bool
}

// Loss returns the CTC negative log-likelihood of each example, shaped [B].
//
//   - logits [B, T, V] float: unnormalised scores (or log-probabilities);
//     frames t >= inputLengths[b] are ignored and may hold anything.
//   - inputLengths [B] integer: valid frames per example, clamped to [0, T].
//   - labels [B, L] integer: label sequences, padded after labelLengths[b]
//     with anything; they must not contain the blank.
//   - labelLengths [B] integer: clamped to [0, L].
//
// The result has dtype float64 for float64 logits and float32 otherwise.
// Like every GoMLX graph function, Loss panics with a descriptive error on
// invalid shapes; GoMLX's Exec (and context.Exec) return it as an error.
func Loss(logits, inputLengths, labels, labelLengths *Node, opts Options) *Node {
	g := logits.Graph()
	if logits.Rank() != 3 || !logits.DType().IsFloat() {
		failf("ctc.Loss: logits must be a float tensor [B, T, V], got %s", logits.Shape())
	}
	batch, frames, classes := logits.Shape().Dim(0), logits.Shape().Dim(1), logits.Shape().Dim(2)
	if labels.Rank() != 2 || labels.Shape().Dim(0) != batch || !labels.DType().IsInt() {
		failf("ctc.Loss: labels must be an integer tensor [B=%d, L], got %s", batch, labels.Shape())
	}
	for name, n := range map[string]*Node{"inputLengths": inputLengths, "labelLengths": labelLengths} {
		if n.Rank() != 1 || n.Shape().Dim(0) != batch || !n.DType().IsInt() {
			failf("ctc.Loss: %s must be an integer tensor [B=%d], got %s", name, batch, n.Shape())
		}
	}
	if opts.Blank < 0 || opts.Blank >= classes {
		failf("ctc.Loss: blank %d out of range for %d classes", opts.Blank, classes)
	}
	if frames == 0 || batch == 0 {
		failf("ctc.Loss: empty logits %s", logits.Shape())
	}
	maxLabels := labels.Shape().Dim(1)
	states := 2*maxLabels + 1

	dtype := dtypes.Float32
	if logits.DType() == dtypes.Float64 {
		dtype = dtypes.Float64
	}
	x := ConvertDType(logits, dtype)
	inLen := ClipScalar(ConvertDType(inputLengths, dtypes.Int32), 0, float64(frames))
	labLen := ClipScalar(ConvertDType(labelLengths, dtypes.Int32), 0, float64(maxLabels))
	labs := ClipScalar(ConvertDType(labels, dtypes.Int32), 0, float64(classes-1))

	// Valid frames [B, T]; padded frames are zeroed before anything reads them.
	validFrame := LessThan(Iota(g, shapes.Make(dtypes.Int32, batch, frames), 1), InsertAxes(inLen, -1))
	x = Where(validFrame, x, ZerosLike(x))
	logProbs := LogSoftmax(x, -1)

	// Extended labels [B, S]: blank, l1, blank, l2, ..., blank.
	blankCol := Const(g, int32(opts.Blank))
	var ext *Node
	if maxLabels == 0 {
		ext = BroadcastToDims(blankCol, batch, 1)
	} else {
		pairs := Stack([]*Node{BroadcastToDims(blankCol, batch, maxLabels), labs}, 2) // [B, L, 2]
		ext = Concatenate([]*Node{Reshape(pairs, batch, 2*maxLabels), BroadcastToDims(blankCol, batch, 1)}, 1)
	}
	oneHot := OneHot(ext, classes, dtype) // [B, S, V]
	// Emission log-probabilities of each state: [B, T, S].
	emissions := DotGeneral(logProbs, []int{2}, []int{0}, oneHot, []int{2}, []int{0})

	// Transition masks, as additive log-space penalties [B, S].
	zero, neg := ScalarZero(g, dtype), Scalar(g, dtype, logZero)
	stateIdx := Iota(g, shapes.Make(dtypes.Int32, batch, states), 1)
	skipAllowed := LogicalAnd(
		NotEqual(ext, BroadcastToDims(blankCol, batch, states)),
		NotEqual(ext, newShifter(batch, states, blankCol).right(ext, 2)))
	skipPenalty := Where(skipAllowed, BroadcastToDims(zero, batch, states), BroadcastToDims(neg, batch, states))
	lastState := InsertAxes(MulScalar(labLen, 2), -1) // [B, 1]
	final := LogicalOr(Equal(stateIdx, lastState),
		LogicalAnd(Equal(stateIdx, AddScalar(lastState, -1)), GreaterThan(lastState, ZerosLike(lastState))))
	negStates := BroadcastToDims(neg, batch, states)
	finalLog := Where(final, BroadcastToDims(zero, batch, states), negStates)

	// The recursions run time-major on [T*B, S] so that a frame is one Slice;
	// they see the emissions as constants: the gradient is built from the
	// occupancies below instead of back-propagating through them.
	emT := Reshape(TransposeAllAxes(StopGradient(emissions), 1, 0, 2), frames*batch, states)
	rows := func(x *Node, t int) *Node { return Slice(x, AxisRange(t*batch, (t+1)*batch)) }
	timeIdx := Iota(g, shapes.Make(dtypes.Int32, frames, batch, states), 0)
	lenT := BroadcastToDims(Reshape(inLen, 1, batch, 1), frames, batch, states)
	activeT := Reshape(LessThan(timeIdx, lenT), frames*batch, states)                     // t < len
	endedT := Reshape(GreaterOrEqual(timeIdx, AddScalar(lenT, -1)), frames*batch, states) // t >= len-1
	sh := newShifter(batch, states, neg)

	// Forward: alpha_t(s) = log P(prefix ending in state s at frame t), emission included.
	alphas := make([]*Node, frames)
	alphas[0] = Where(LessThan(stateIdx, Const(g, int32(2))), rows(emT, 0), negStates)
	for t := 1; t < frames; t++ {
		prev := alphas[t-1]
		next := Add(logSumExp3(prev, sh.right(prev, 1), Add(sh.right(prev, 2), skipPenalty)), rows(emT, t))
		alphas[t] = Where(rows(activeT, t), next, prev) // frozen after the example's last frame
	}
	logLik := logSumExp(Add(alphas[frames-1], finalLog)) // [B]

	// Backward: beta_t(s) = log P(suffix after frame t | state s at frame t),
	// emission of frame t excluded; 0 on final states at an example's last frame.
	betas := make([]*Node, frames)
	betas[frames-1] = finalLog
	skipFrom := sh.left(skipPenalty, 2) // s -> s+2 allowed
	for t := frames - 2; t >= 0; t-- {
		w := Add(rows(emT, t+1), betas[t+1])
		next := logSumExp3(w, sh.left(w, 1), Add(sh.left(w, 2), skipFrom))
		betas[t] = Where(rows(endedT, t), finalLog, next)
	}

	// Feasibility: an alignment needs one frame per label plus one per repeat.
	var repeats *Node
	if maxLabels > 1 {
		same := Equal(Slice(labs, AxisRange(), AxisRange(1, maxLabels)), Slice(labs, AxisRange(), AxisRange(0, maxLabels-1)))
		inLabels := LessThan(Iota(g, shapes.Make(dtypes.Int32, batch, maxLabels-1), 1), InsertAxes(AddScalar(labLen, -1), -1))
		repeats = ReduceSum(ConvertDType(LogicalAnd(same, inLabels), dtypes.Int32), 1)
	} else {
		repeats = ZerosLike(labLen)
	}
	possible := LogicalAnd(GreaterOrEqual(inLen, Add(labLen, repeats)),
		LogicalOr(GreaterThan(inLen, ZerosLike(inLen)), Equal(labLen, ZerosLike(labLen))))
	emptyInput := Equal(inLen, ZerosLike(inLen))

	// Occupancies gamma[t, b, s] = P(state s at frame t | labels): zero on
	// padded frames and for impossible examples.
	alpha := Reshape(Concatenate(alphas, 0), frames, batch, states)
	beta := Reshape(Concatenate(betas, 0), frames, batch, states)
	occupancy := Exp(Sub(Add(alpha, beta), Reshape(logLik, 1, batch, 1)))
	keep := LogicalAnd(TransposeAllAxes(validFrame, 1, 0), InsertAxes(possible, 0)) // [T, B]
	occupancy = StopGradient(Where(keep, occupancy, ZerosLike(occupancy)))

	// loss = -logLik in value; d loss / d emissions = -occupancy.
	linear := ReduceSum(Mul(TransposeAllAxes(emissions, 1, 0, 2), occupancy), 0, 2) // [B]
	loss := Add(StopGradient(Neg(logLik)), Sub(StopGradient(linear), linear))
	emptyValue := ZerosLike(loss) // an empty input with empty labels has probability 1
	loss = Where(emptyInput, emptyValue, loss)
	impossibleValue := Scalar(g, dtype, ImpossibleLoss)
	if opts.ZeroInfinity {
		impossibleValue = zero
	}
	return Where(possible, loss, BroadcastToDims(impossibleValue, batch))
}

// logSumExp3 is log(exp(a)+exp(b)+exp(c)) elementwise, stable.
func logSumExp3(a, b, c *Node) *Node {
	m := Max(Max(a, b), c)
	return Add(m, Log(Add(Add(Exp(Sub(a, m)), Exp(Sub(b, m))), Exp(Sub(c, m)))))
}

// logSumExp reduces the last axis of x [B, S] in log space.
func logSumExp(x *Node) *Node {
	m := ReduceAndKeep(x, ReduceMax, -1)
	return Add(Reshape(m, x.Shape().Dim(0)), Log(ReduceSum(Exp(Sub(x, m)), -1)))
}

// shifter shifts [B, S] tensors along S, filling with a constant built once.
type shifter struct {
	pads [3]*Node // pads[k]: [B, k] filled with the fill value
	n    int
}

func newShifter(batch, states int, fill *Node) *shifter {
	sh := &shifter{n: states}
	for k := 1; k <= 2; k++ {
		sh.pads[k] = BroadcastToDims(fill, batch, min(k, states))
	}
	return sh
}

// right returns out[s] = x[s-k] (k = 1 or 2).
func (sh *shifter) right(x *Node, k int) *Node {
	if k >= sh.n {
		return sh.pads[k]
	}
	return Concatenate([]*Node{sh.pads[k], Slice(x, AxisRange(), AxisRange(0, sh.n-k))}, 1)
}

// left returns out[s] = x[s+k] (k = 1 or 2).
func (sh *shifter) left(x *Node, k int) *Node {
	if k >= sh.n {
		return sh.pads[k]
	}
	return Concatenate([]*Node{Slice(x, AxisRange(), AxisRange(k, sh.n)), sh.pads[k]}, 1)
}

// failf panics with an error, which GoMLX's Exec reports as an error.
func failf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}
