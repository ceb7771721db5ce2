package train

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/data"
)

// interval accumulates the figures of one metrics event.
type interval struct {
	loss, tokens, gradNorm float64
	steps, skipped, utts   int
	audio, padded, flops   float64
	wait                   time.Duration
	// timed counts the steps that compiled no graph, the throughput's
	// basis: a step that compiles runs its batch once as part of the
	// compilation, whose time is not training time (after a resume every
	// batch shape compiles again; counting those steps' audio over the
	// remaining time reported 100x the real throughput).
	timed struct {
		steps        int
		audio, flops float64
		wall         time.Duration
	}
}

// stepResult is what one optimizer step measured.
type stepResult struct {
	loss, tokens, gradNorm float64
}

// finite reports whether the step's loss and gradient are finite numbers.
func (r stepResult) finite() bool {
	return !math.IsNaN(r.gradNorm) && !math.IsInf(r.gradNorm, 0) && !math.IsNaN(r.loss) && !math.IsInf(r.loss, 0)
}

// loop trains until the last step, StopAtStep, or cancellation, then saves
// a final checkpoint.
func (t *trainer) loop(ctx context.Context) error {
	// The batch iterator outlives ctx: a cancelled run finishes its step.
	iterCtx, cancelIter := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelIter()
	it := t.train.Iterate(iterCtx, t.pos)
	defer it.Close()

	t.res.Step = t.step
	t.setState(StateTraining, fmt.Sprintf("%d steps of %d to go", t.total-t.step, t.total))
	var (
		iv                 interval
		runLoss, runTokens float64
		nonFinite          int
		stopped            bool
	)
	for t.step < t.total {
		if (t.opts.StopAtStep > 0 && t.step >= t.opts.StopAtStep) || ctx.Err() != nil {
			stopped = true
			break
		}
		r, err := t.trainStep(it, &iv)
		if err != nil {
			return err
		}
		if !r.finite() {
			iv.skipped++
			if nonFinite++; nonFinite >= maxNonFinite {
				return fmt.Errorf("train: training diverged: %d consecutive steps with a non-finite loss or gradient (lower train.learning_rate, or check the data)", nonFinite)
			}
		} else {
			nonFinite = 0
			iv.loss += r.loss
			iv.tokens += r.tokens
			iv.gradNorm += r.gradNorm
			runLoss += r.loss
			runTokens += r.tokens
			t.lossSinceCk += r.loss
			t.tokSinceCk += r.tokens
		}
		if t.step%t.cfg.Log.Every == 0 || t.step == t.total {
			t.emitMetrics(&iv)
			iv = interval{}
		}
		if err := t.afterStep(ctx); err != nil {
			return err
		}
	}
	if iv.steps > 0 {
		t.emitMetrics(&iv)
	}
	if runTokens > 0 {
		t.res.Loss = runLoss / runTokens
	}
	return t.finish(stopped)
}

// trainStep runs one optimizer step: the forward and backward passes of
// train.grad_accumulation batches, then the update. It advances the step,
// the data position and the timings.
func (t *trainer) trainStep(it *data.Iterator, iv *interval) (stepResult, error) {
	start := time.Now()
	compileBefore := t.res.CompileTime
	audioBefore, flopsBefore := iv.audio, iv.flops
	stepNo := t.step + 1
	lr := t.cfg.Train.LearningRateAt(stepNo, t.total)
	hyper := t.opt.hyper(stepNo, lr)
	accum := t.cfg.Train.GradAccumulation
	var r stepResult
	for k := 0; k < accum; k++ {
		w := time.Now()
		b, err := it.Next()
		if err != nil {
			return r, fmt.Errorf("train: reading batch: %w", err)
		}
		iv.wait += time.Since(w)
		args := batchTensors(b)
		var out []*tensors.Tensor
		if accum == 1 {
			for _, h := range hyper {
				args = append(args, h)
			}
			out, err = t.run("train", t.stepExec, b, args)
		} else {
			out, err = t.run("accumulate", t.accExec, b, args)
		}
		if err != nil {
			return r, err
		}
		r.loss += scalar(out[0])
		r.tokens += scalar(out[1])
		if accum == 1 {
			r.gradNorm = scalar(out[2])
		}
		release(out)
		t.countBatch(b, iv)
	}
	if accum > 1 {
		args := make([]any, len(hyper))
		for i, h := range hyper {
			args[i] = h
		}
		out, err := t.run("apply", t.applyExec, nil, args)
		if err != nil {
			return r, err
		}
		r.gradNorm = scalar(out[0])
		release(out)
	}
	if t.loader != nil {
		if err := t.checkRestored(); err != nil {
			return r, err
		}
	}
	t.step = stepNo
	t.pos = it.Position()
	t.lastLR = lr
	elapsed := time.Since(start) - (t.res.CompileTime - compileBefore)
	t.res.TrainTime += elapsed
	t.state.TrainSeconds += elapsed.Seconds()
	if t.res.CompileTime == compileBefore {
		iv.timed.steps++
		iv.timed.audio += iv.audio - audioBefore
		iv.timed.flops += iv.flops - flopsBefore
		iv.timed.wall += elapsed
	}
	iv.steps++
	t.res.Step = t.step
	return r, nil
}

// countBatch adds a trained batch to the interval's and the run's counts.
func (t *trainer) countBatch(b *data.Batch, iv *interval) {
	iv.utts += b.Rows
	iv.audio += b.Seconds
	iv.padded += float64(b.Size*b.Frames) / t.cfg.Features.FrameRate()
	iv.flops += 3 * float64(b.Size) * float64(t.model.FLOPs(b.Frames))
	t.state.Utterances += int64(b.Rows)
	t.state.AudioSeconds += b.Seconds
}

// afterStep evaluates and saves a checkpoint when they are due (the last
// step's are left to finish).
func (t *trainer) afterStep(ctx context.Context) error {
	last := t.step == t.total
	evalDue := t.val != nil && ((t.cfg.Train.EvalEvery > 0 && t.step%t.cfg.Train.EvalEvery == 0) || last)
	if evalDue {
		if err := t.evaluate(ctx); err != nil {
			if ctx.Err() == nil {
				return err
			}
			t.log.Info("evaluation interrupted", "step", t.step)
		}
		if !last && ctx.Err() == nil {
			t.setState(StateTraining, "")
		}
	}
	ckDue := (t.cfg.Checkpoint.Every > 0 && t.step%t.cfg.Checkpoint.Every == 0) ||
		(t.cfg.Checkpoint.Interval > 0 && time.Since(t.lastSavedAt) >= t.cfg.Checkpoint.Interval)
	if ckDue && !last {
		return t.save()
	}
	return nil
}

// finish saves the last step if it is not saved yet and sets the final
// state.
func (t *trainer) finish(stopped bool) error {
	t.res.Utterances = t.state.Utterances
	if stopped {
		t.res.Stopped = true
		t.setState(StateStopping, "saving")
	}
	if t.step > t.lastSaved {
		if err := t.save(); err != nil {
			return err
		}
	}
	t.res.Finished = t.step >= t.total
	if t.lastEval != nil {
		t.res.Eval = t.lastEval
	}
	if t.res.Finished {
		t.setState(StateFinished, fmt.Sprintf("trained %d steps", t.step))
	} else {
		t.setState(StateStopped, fmt.Sprintf("stopped at step %d of %d; run again to resume", t.step, t.total))
	}
	return nil
}

// batchTensors turns a batch into the graph's four data inputs.
func batchTensors(b *data.Batch) []any {
	return []any{
		tensors.FromFlatDataAndDimensions(b.Features, b.Size, b.Frames, b.Bands),
		tensors.FromFlatDataAndDimensions(b.FrameLengths, b.Size),
		tensors.FromFlatDataAndDimensions(b.Labels, b.Size, b.MaxLabels),
		tensors.FromFlatDataAndDimensions(b.LabelLengths, b.Size),
	}
}

// run executes exec on args. The first run of each batch shape, which
// builds and compiles the graph, is timed as compilation (a compile event)
// rather than training.
func (t *trainer) run(name string, exec *gcontext.Exec, b *data.Batch, args []any) ([]*tensors.Tensor, error) {
	key := name
	size, frames := 0, 0
	if b != nil {
		size, frames = b.Size, b.Frames
		key = fmt.Sprintf("%s:%dx%d", name, size, frames)
	}
	first := !t.compiled[key]
	start := time.Now()
	out, err := exec.Exec(args...)
	// The inputs were made for this call: free them now rather than when
	// the garbage collector gets to them (on a GPU they hold device memory).
	for _, a := range args {
		if x, ok := a.(*tensors.Tensor); ok {
			x.FinalizeAll()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("train: %s step (batch %dx%d): %w", name, size, frames, err)
	}
	if first {
		// The first run of a shape builds and compiles its graph (and
		// initialises new variables): timed apart from training.
		d := time.Since(start)
		t.res.CompileTime += d
		t.compiled[key] = true
		t.emit(Event{Type: EventCompile, Compile: &CompileInfo{Graph: name, BatchSize: size, Frames: frames, Seconds: d.Seconds()}})
	}
	return out, nil
}

// release frees the outputs of a run once they have been read.
func release(out []*tensors.Tensor) {
	for _, x := range out {
		x.FinalizeAll()
	}
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

func (t *trainer) emitMetrics(iv *interval) {
	m := &Metrics{LearningRate: t.lastLR, Steps: iv.steps, SkippedSteps: iv.skipped, Utterances: iv.utts,
		AudioSeconds: iv.audio, PaddedSeconds: iv.padded, DataWait: iv.wait.Seconds(), Elapsed: t.state.TrainSeconds}
	t.res.AudioSeconds += iv.audio
	if iv.tokens > 0 {
		m.Loss = iv.loss / iv.tokens
	}
	if good := iv.steps - iv.skipped; good > 0 {
		m.GradNorm = iv.gradNorm / float64(good)
	}
	if s := iv.timed.wall.Seconds(); s > 0 && iv.timed.steps > 0 {
		m.StepsPerSecond = float64(iv.timed.steps) / s
		m.AudioSecondsPerSecond = iv.timed.audio / s
		m.GFLOPS = iv.timed.flops / s / 1e9
		m.ETA = float64(t.total-t.step) / m.StepsPerSecond
	}
	t.emit(Event{Type: EventMetrics, Metrics: m})
}
