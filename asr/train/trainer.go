package train

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
)

// ErrRunExists is returned when Options.Fresh asks to start over in a run
// directory that already holds checkpoints, without Options.Force.
var ErrRunExists = errors.New("run directory already holds checkpoints")

// maxNonFinite is the number of consecutive steps with a non-finite
// gradient after which training gives up.
const maxNonFinite = 20

// Options are the parts of a training job that are not in the config file.
type Options struct {
	// Backend overrides train.backend (the --backend flag); empty keeps it.
	Backend string
	// RunDir overrides checkpoint.dir; empty keeps it.
	RunDir string
	// Fresh starts from step 0 even if the run directory has checkpoints:
	// refused with ErrRunExists unless Force is set too, which deletes them
	// (and the run's JSONL log and status). Without Fresh, training resumes
	// from the newest usable checkpoint when there is one.
	Fresh, Force bool
	// StopAtStep, when positive, stops (saving a checkpoint) once this step
	// is reached, before the end of the schedule; a later run resumes.
	StopAtStep int64
	// Observer receives every training event (see Event).
	Observer Observer
	// Logger receives warnings and notes. Nil means slog.Default().
	Logger *slog.Logger
	// Progress, when not nil, receives a progress bar while the feature
	// cache is built (pass os.Stderr when it is a terminal).
	Progress io.Writer
}

// Result summarises a training run (one call of Run).
type Result struct {
	// RunDir is the run directory.
	RunDir string
	// Backend describes the compute backend used.
	Backend string
	// Step is the last step trained; TotalSteps the planned number.
	Step, TotalSteps int64
	// ResumedFrom is the step this run resumed from (0 for a fresh start).
	ResumedFrom int64
	// Finished is true when Step reached TotalSteps; Stopped when the run
	// was cancelled or reached Options.StopAtStep first.
	Finished, Stopped bool
	// Checkpoint is the folder of the last checkpoint saved ("" if none).
	Checkpoint string
	// Eval is the last evaluation, nil if none ran.
	Eval *checkpoint.EvalMetrics
	// Loss is the mean per-token training loss over this run's steps.
	Loss float64
	// AudioSeconds and Utterances count the training data of this run.
	AudioSeconds float64
	Utterances   int64
	// TrainTime covers the training steps (data waits included),
	// CompileTime the graph builds and compilations, EvalTime the
	// evaluations, CheckpointTime saving and pruning, PrepareTime the data
	// preparation and backend creation.
	TrainTime, CompileTime, EvalTime, CheckpointTime, PrepareTime time.Duration
}

// AudioSecondsPerSecond is the training throughput of the run: unpadded
// audio seconds per second of training time.
func (r *Result) AudioSecondsPerSecond() float64 {
	if r.TrainTime <= 0 {
		return 0
	}
	return r.AudioSeconds / r.TrainTime.Seconds()
}

// trainer is one run of Run.
type trainer struct {
	cfg     Config // defaults filled in
	opts    Options
	log     *slog.Logger
	runDir  string
	observe Observer
	jsonl   *os.File
	res     *Result

	backend backends.Backend
	binfo   backend.Info
	ds      *data.Dataset
	train   *data.Loader
	val     *data.Loader
	targets map[string]string
	vocab   *text.Vocabulary
	norm    features.Normalization
	model   model.Config
	opt     adamW

	gctx      *gcontext.Context
	loader    *checkpoint.Loader // weights being restored, until the first step
	stepExec  *gcontext.Exec
	accExec   *gcontext.Exec
	applyExec *gcontext.Exec
	evalExec  *gcontext.Exec
	compiled  map[string]bool

	step, total int64
	pos         data.Position
	state       *checkpoint.TrainingState
	lastLR      float64
	lastEval    *checkpoint.EvalMetrics
	best        *checkpoint.EvalMetrics
	lossSinceCk float64 // summed loss and tokens since the last checkpoint
	tokSinceCk  float64
	lastSaved   int64
	lastSavedAt time.Time
	current     State
}

// Run trains a model as cfg says, resuming from the newest checkpoint of
// the run directory unless opts.Fresh. It returns when the last step is
// done (Result.Finished), when ctx is cancelled (it finishes the current
// step, saves a checkpoint and returns a nil error with Result.Stopped),
// or on an error. Events go to opts.Observer and to the JSONL log.
func Run(ctx context.Context, cfg Config, opts Options) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &trainer{cfg: cfg.WithDefaults(), opts: opts, log: opts.Logger, compiled: map[string]bool{}}
	if t.log == nil {
		t.log = slog.Default()
	}
	if opts.RunDir != "" {
		t.cfg.Checkpoint.Dir = opts.RunDir
	}
	if t.cfg.Checkpoint.Dir == "" {
		return nil, errors.New("train: no run directory: set checkpoint.dir")
	}
	if t.runDir, err = filepath.Abs(t.cfg.Checkpoint.Dir); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := os.MkdirAll(t.runDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: run directory: %w", err)
	}
	unlock, err := lockRun(t.runDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t.res = &Result{RunDir: t.runDir}

	resume, err := t.startPoint()
	if err != nil {
		return nil, err
	}
	if err := t.openLog(); err != nil {
		return nil, err
	}
	defer func() {
		if t.jsonl != nil {
			t.jsonl.Close()
		}
	}()
	t.observe = Tee(t.writeJSONL, opts.Observer)
	defer func() {
		if err != nil {
			t.emit(Event{Type: EventError, Error: err.Error()})
			t.setState(StateFailed, err.Error())
		}
		if t.backend != nil {
			t.backend.Finalize()
		}
	}()
	t.setState(StatePreparing, "")

	prepStart := time.Now()
	if err := t.prepare(ctx, resume); err != nil {
		return t.res, err
	}
	t.res.PrepareTime = time.Since(prepStart)
	return t.res, t.loop(ctx)
}

// startPoint decides between resuming and starting over, and clears the
// run directory for a forced fresh start.
func (t *trainer) startPoint() (*checkpoint.Checkpoint, error) {
	list, err := checkpoint.List(t.runDir)
	if err != nil {
		return nil, err
	}
	if t.opts.Fresh {
		if len(list) == 0 {
			return nil, nil
		}
		if !t.opts.Force {
			return nil, fmt.Errorf("train: %w: refusing to start over in %s (%d checkpoints, newest step %d); add --force to delete them, or choose another checkpoint.dir",
				ErrRunExists, t.runDir, len(list), list[len(list)-1].Step)
		}
		old := filepath.Join(t.runDir, fmt.Sprintf(".old-checkpoints-%d", time.Now().UnixNano()))
		if err := os.Rename(filepath.Join(t.runDir, checkpoint.CheckpointsDir), old); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if err := os.RemoveAll(old); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		for _, f := range []string{t.jsonlPath(), filepath.Join(t.runDir, checkpoint.StatusFile)} {
			if f != "" {
				if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("train: %w", err)
				}
			}
		}
		t.log.Info("deleted the previous checkpoints (--fresh --force)", "run_dir", t.runDir, "checkpoints", len(list))
		return nil, nil
	}
	if len(list) == 0 {
		return nil, nil
	}
	ck, err := checkpoint.Latest(t.runDir, t.log)
	if err != nil {
		return nil, fmt.Errorf("train: cannot resume: %w (start over with --fresh --force)", err)
	}
	return ck, nil
}

func (t *trainer) jsonlPath() string {
	switch p := t.cfg.Log.JSONL; p {
	case "off":
		return ""
	case "":
		return filepath.Join(t.runDir, checkpoint.LogFile)
	default:
		return p
	}
}

func (t *trainer) openLog() error {
	p := t.jsonlPath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("train: log.jsonl: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: log.jsonl: %w", err)
	}
	t.jsonl = f
	return nil
}

func (t *trainer) writeJSONL(e Event) {
	if t.jsonl != nil {
		JSONLWriter(t.jsonl)(e)
	}
}

// emit stamps and sends an event.
func (t *trainer) emit(e Event) {
	e.Time = time.Now().UTC()
	e.Step, e.TotalSteps, e.Epoch = t.step, t.total, t.pos.Epoch
	t.observe(e)
}

func (t *trainer) setState(s State, msg string) {
	info := &StateInfo{State: s, Message: msg, RunDir: t.runDir}
	if t.backend != nil {
		info.Backend = t.binfo.String()
	}
	if s == StateTraining && t.res.ResumedFrom > 0 {
		info.Resumed = t.res.ResumedFrom
	}
	t.current = s
	t.emit(Event{Type: EventState, State: info})
	t.writeStatus(s, msg)
}

// status is the content of status.json.
type status struct {
	State      State     `json:"state"`
	Message    string    `json:"message,omitempty"`
	Step       int64     `json:"step"`
	TotalSteps int64     `json:"total_steps"`
	Checkpoint string    `json:"checkpoint,omitempty"`
	Backend    string    `json:"backend,omitempty"`
	PID        int       `json:"pid"`
	Updated    time.Time `json:"updated"`
}

func (t *trainer) writeStatus(s State, msg string) {
	st := status{State: s, Message: msg, Step: t.step, TotalSteps: t.total, Checkpoint: t.res.Checkpoint, PID: os.Getpid(), Updated: time.Now().UTC()}
	if t.backend != nil {
		st.Backend = t.binfo.String()
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	p := filepath.Join(t.runDir, checkpoint.StatusFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err == nil {
		err = os.Rename(tmp, p)
		if err != nil {
			t.log.Warn("cannot write the job status", "err", err)
		}
	}
}

// prepare creates the backend, prepares the data, restores or initialises
// the state and builds the executors.
func (t *trainer) prepare(ctx context.Context, resume *checkpoint.Checkpoint) error {
	var err error
	if t.model, err = t.cfg.Model.Resolve(); err != nil {
		return err
	}
	t.vocab = text.DefaultVocabulary()
	t.opt = newAdamW(t.cfg.Train)

	// The checkpoint to resume from, or the model to fine-tune, must fit
	// this config before anything slow happens.
	var init *checkpoint.Checkpoint
	if resume != nil {
		if err := t.checkResume(resume); err != nil {
			return err
		}
	} else if t.cfg.Train.InitFrom != "" {
		if init, err = checkpoint.OpenModel(t.cfg.Train.InitFrom, t.log); err != nil {
			return fmt.Errorf("train: train.init_from: %w", err)
		}
		if err := t.checkInit(init); err != nil {
			return err
		}
	}

	spec, src := backend.Resolve(t.opts.Backend, t.cfg.Train.Backend)
	if t.backend, t.binfo, err = backend.New(ctx, spec); err != nil {
		return fmt.Errorf("train: backend %q (from %s): %w", spec, src, err)
	}
	t.res.Backend = t.binfo.String()
	t.log.Info("backend", "spec", spec, "from", string(src), "using", t.binfo.String())
	if t.cfg.Train.Precision == model.PrecisionBFloat16 && t.binfo.Name == "go" {
		t.log.Warn("train.precision bfloat16 on the pure-Go backend computes correctly but about half as fast as float32; it is meant for GPUs")
	}

	t.ds, err = data.Prepare(ctx, t.cfg.Datasets, data.Options{
		Features: t.cfg.Features, Subsampling: model.SubsamplingFactor, Vocabulary: t.vocab,
		Progress: t.opts.Progress, Logger: t.log,
	})
	if err != nil {
		return fmt.Errorf("train: data: %w", err)
	}
	t.norm = t.ds.Normalization
	switch {
	case resume != nil:
		t.norm = resume.Manifest.Normalization
	case init != nil:
		t.norm = init.Manifest.Normalization
	}
	if !sameNorm(t.norm, t.ds.Normalization) {
		t.log.Info("using the saved model's normalisation, not the one computed from this corpus", "model", pick(resume, init).Dir)
		t.ds.Normalization = t.norm
	}
	sa := t.cfg.Train.SpecAugment.Resolve()
	if t.train, err = t.ds.Loader(data.Train, data.LoaderOptions{Training: true, SpecAugment: &sa}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if t.val, err = t.ds.Loader(data.Val, data.LoaderOptions{}); err != nil {
		t.log.Warn("no evaluation: no validation set", "err", err)
		t.val = nil
	} else {
		t.targets = map[string]string{}
		for _, u := range t.ds.Utterances(data.Val) {
			t.targets[u.ID] = u.Target
		}
	}

	t.total = t.cfg.Train.Steps
	if t.total == 0 {
		perStep := float64(t.cfg.Train.GradAccumulation)
		t.total = int64(math.Ceil(t.cfg.Train.Epochs * float64(t.train.BatchesPerEpoch()) / perStep))
		if t.total < 1 {
			t.total = 1
		}
	}
	if t.cfg.Train.WarmupSteps == nil {
		t.cfg.Train.WarmupSteps = ptr(DefaultWarmup(t.total))
	}
	if w := *t.cfg.Train.WarmupSteps; w >= t.total && w > 0 {
		return fmt.Errorf("train: train.warmup_steps %d must be below the number of steps (%d)", w, t.total)
	}
	t.res.TotalSteps = t.total

	t.gctx = gcontext.New()
	t.gctx.SetParam(gcontext.ParamInitialSeed, t.cfg.Train.Seed)
	precision := t.cfg.Train.Precision
	t.state = &checkpoint.TrainingState{TotalSteps: t.total, Seed: t.cfg.Train.Seed, Precision: precision}
	switch {
	case resume != nil:
		if t.loader, err = resume.NewLoader(true); err != nil {
			return fmt.Errorf("train: resuming: %w", err)
		}
		m := resume.Manifest
		st := *m.Training
		t.state = &st
		t.step, t.lastSaved, t.res.ResumedFrom = m.Step, m.Step, m.Step
		t.pos = data.Position{Epoch: st.Epoch, Batch: st.Batch}
		t.lastEval = m.Metrics.Eval
		t.lastLR = m.Metrics.LearningRate
		if was := cmp.Or(st.Precision, model.PrecisionFloat32); was != precision {
			t.log.Info("the compute precision changed since the checkpoint (the weights are float32 either way)", "was", was, "now", precision)
			t.state.Precision = precision
		}
		if st.TotalSteps != t.total {
			t.log.Warn("the number of steps changed since the checkpoint; the learning-rate schedule changes with it", "was", st.TotalSteps, "now", t.total)
			t.state.TotalSteps = t.total
		}
		t.best = t.bestSoFar()
		t.log.Info("resuming", "checkpoint", resume.Dir, "step", t.step, "epoch", t.pos.Epoch, "batch", t.pos.Batch)
	case init != nil:
		if t.loader, err = init.NewLoader(false); err != nil {
			return fmt.Errorf("train: train.init_from: %w", err)
		}
		t.log.Info("fine-tuning", "from", init.Dir, "step", init.Manifest.Step)
	}
	if t.loader != nil {
		t.gctx.SetLoader(t.loader)
	}
	t.lastSavedAt = time.Now()

	if t.cfg.Train.GradAccumulation == 1 {
		t.stepExec, err = gcontext.NewExec(t.backend, t.gctx, stepGraph(t.model, precision, t.opt))
	} else {
		t.accExec, err = gcontext.NewExec(t.backend, t.gctx, accumulateGraph(t.model, precision))
		if err == nil {
			t.applyExec, err = gcontext.NewExec(t.backend, t.gctx, applyGraph(t.opt))
		}
	}
	if err == nil && t.val != nil {
		t.evalExec, err = gcontext.NewExec(t.backend, t.gctx, evalGraph(t.model))
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

func pick(a, b *checkpoint.Checkpoint) *checkpoint.Checkpoint {
	if a != nil {
		return a
	}
	return b
}

func sameNorm(a, b features.Normalization) bool {
	if len(a.Mean) != len(b.Mean) || len(a.Std) != len(b.Std) {
		return false
	}
	for i := range a.Mean {
		if a.Mean[i] != b.Mean[i] || a.Std[i] != b.Std[i] {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// checkResume refuses a checkpoint of another model and warns about other
// changes of the configuration.
func (t *trainer) checkResume(ck *checkpoint.Checkpoint) error {
	m := ck.Manifest
	var errs []error
	if !jsonEqual(m.Model, t.model) {
		errs = append(errs, fmt.Errorf("model: the checkpoint's is %s, the config's %s", compact(m.Model), compact(t.model)))
	}
	if !jsonEqual(m.Features.WithDefaults(), t.cfg.Features.WithDefaults()) {
		errs = append(errs, fmt.Errorf("features: the checkpoint's are %s, the config's %s", compact(m.Features), compact(t.cfg.Features.WithDefaults())))
	}
	if !m.Vocabulary.Equal(t.vocab) {
		errs = append(errs, errors.New("vocabulary differs"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("train: cannot resume from %s, it is not this config's model (use another checkpoint.dir, or --fresh --force to start over): %w", ck.Dir, errors.Join(errs...))
	}
	var was Config
	if err := json.Unmarshal(m.Config, &was); err == nil {
		was = was.WithDefaults()
		for _, s := range []struct {
			name string
			a, b any
		}{{"train", was.Train, t.cfg.Train}, {"datasets", was.Datasets, t.cfg.Datasets}, {"checkpoint", was.Checkpoint, t.cfg.Checkpoint}} {
			if !jsonEqual(s.a, s.b) {
				t.log.Warn("the config changed since the checkpoint; the resumed run will differ from an uninterrupted one", "section", s.name)
			}
		}
	}
	return nil
}

// checkInit refuses to fine-tune a model whose inputs or outputs differ.
func (t *trainer) checkInit(c *checkpoint.Checkpoint) error {
	m := c.Manifest
	var errs []error
	if !m.Vocabulary.Equal(t.vocab) {
		errs = append(errs, fmt.Errorf("its vocabulary is %q, this config's %q", strings.Join(m.Vocabulary.Symbols(), ""), strings.Join(t.vocab.Symbols(), "")))
	}
	if !jsonEqual(m.Features.WithDefaults(), t.cfg.Features.WithDefaults()) {
		errs = append(errs, fmt.Errorf("its features are %s, this config's %s", compact(m.Features), compact(t.cfg.Features.WithDefaults())))
	}
	a, b := m.Model, t.model
	a.Dropout, b.Dropout = nil, nil
	if !jsonEqual(a, b) {
		errs = append(errs, fmt.Errorf("its model is %s, this config's %s", compact(a), compact(b)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("train: train.init_from %s does not fit this config: %w", c.Dir, errors.Join(errs...))
	}
	return nil
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// bestSoFar returns the best evaluation among the run's checkpoints.
func (t *trainer) bestSoFar() *checkpoint.EvalMetrics {
	list, _ := checkpoint.List(t.runDir)
	var best *checkpoint.EvalMetrics
	for _, c := range list {
		if c.Manifest != nil && checkpoint.CompareEval(c.Manifest.Metrics.Eval, best) <= 0 {
			best = c.Manifest.Metrics.Eval
		}
	}
	return best
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

// interval accumulates the figures of one metrics event.
type interval struct {
	loss, tokens, gradNorm float64
	steps, skipped, utts   int
	audio, padded, flops   float64
	wall, wait             time.Duration
}

// loop trains until the last step, StopAtStep, or cancellation.
func (t *trainer) loop(ctx context.Context) error {
	iterCtx, cancelIter := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelIter()
	it := t.train.Iterate(iterCtx, t.pos)
	defer it.Close()

	t.res.Step = t.step
	t.setState(StateTraining, fmt.Sprintf("%d steps of %d to go", t.total-t.step, t.total))
	var iv interval
	var runLoss, runTokens float64
	nonFinite := 0
	accum := t.cfg.Train.GradAccumulation
	stopped := false
	for t.step < t.total {
		if t.opts.StopAtStep > 0 && t.step >= t.opts.StopAtStep {
			stopped = true
			break
		}
		if ctx.Err() != nil {
			stopped = true
			break
		}
		start := time.Now()
		compileBefore := t.res.CompileTime
		stepNo := t.step + 1
		lr := t.cfg.Train.LearningRateAt(stepNo, t.total)
		hyper := t.opt.hyper(stepNo, lr)
		var lossSum, tokens, norm float64
		for k := 0; k < accum; k++ {
			w := time.Now()
			b, err := it.Next()
			if err != nil {
				return fmt.Errorf("train: reading batch: %w", err)
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
				return err
			}
			lossSum += scalar(out[0])
			tokens += scalar(out[1])
			if accum == 1 {
				norm = scalar(out[2])
			}
			release(out)
			iv.utts += b.Rows
			iv.audio += b.Seconds
			iv.padded += float64(b.Size*b.Frames) / t.cfg.Features.FrameRate()
			iv.flops += 3 * float64(b.Size) * float64(t.model.FLOPs(b.Frames))
			t.state.Utterances += int64(b.Rows)
			t.state.AudioSeconds += b.Seconds
		}
		if accum > 1 {
			args := make([]any, len(hyper))
			for i, h := range hyper {
				args[i] = h
			}
			out, err := t.run("apply", t.applyExec, nil, args)
			if err != nil {
				return err
			}
			norm = scalar(out[0])
			release(out)
		}
		if t.loader != nil {
			if err := t.checkRestored(); err != nil {
				return err
			}
		}
		t.step = stepNo
		t.pos = it.Position()
		t.lastLR = lr
		elapsed := time.Since(start) - (t.res.CompileTime - compileBefore)
		t.res.TrainTime += elapsed
		t.state.TrainSeconds += elapsed.Seconds()
		iv.wall += elapsed
		iv.steps++
		if math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(lossSum) || math.IsInf(lossSum, 0) {
			iv.skipped++
			nonFinite++
			if nonFinite >= maxNonFinite {
				return fmt.Errorf("train: training diverged: %d consecutive steps with a non-finite loss or gradient (lower train.learning_rate, or check the data)", nonFinite)
			}
		} else {
			nonFinite = 0
			iv.loss += lossSum
			iv.tokens += tokens
			iv.gradNorm += norm
			runLoss += lossSum
			runTokens += tokens
			t.lossSinceCk += lossSum
			t.tokSinceCk += tokens
		}
		t.res.Step = t.step
		if t.step%t.cfg.Log.Every == 0 || t.step == t.total {
			t.emitMetrics(&iv)
			iv = interval{}
		}

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
			if err := t.save(); err != nil {
				return err
			}
		}
	}
	if iv.steps > 0 {
		t.emitMetrics(&iv)
	}
	if runTokens > 0 {
		t.res.Loss = runLoss / runTokens
	}
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

// checkRestored verifies, after the first step, that the checkpoint being
// resumed or fine-tuned from fitted the model exactly.
func (t *trainer) checkRestored() error {
	l := t.loader
	t.loader = nil
	t.gctx.SetLoader(nil)
	if missing := l.Missing(); len(missing) > 0 {
		return fmt.Errorf("train: the checkpoint lacks %d of the model's weights (e.g. %s): it is of another model", len(missing), missing[0])
	}
	if unused := l.Unused(); len(unused) > 0 {
		var weights []string
		for _, u := range unused {
			if strings.HasPrefix(u, "/"+model.Scope+"/") {
				weights = append(weights, u)
			}
		}
		if len(weights) > 0 {
			return fmt.Errorf("train: the checkpoint holds %d weights the model does not use (e.g. %s): it is of another model", len(weights), weights[0])
		}
		t.log.Debug("checkpoint values not used", "names", unused)
	}
	return nil
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
	if s := iv.wall.Seconds(); s > 0 {
		m.StepsPerSecond = float64(iv.steps) / s
		m.AudioSecondsPerSecond = iv.audio / s
		m.GFLOPS = iv.flops / s / 1e9
		m.ETA = float64(t.total-t.step) / m.StepsPerSecond
	}
	t.emit(Event{Type: EventMetrics, Metrics: m})
}

// save writes a checkpoint of the current step and applies the keep policy.
func (t *trainer) save() error {
	start := time.Now()
	weights, state := checkpoint.ModelVariables(t.gctx)
	for k := range state {
		if strings.HasPrefix(k, "/"+AccumulatorScope+"/") {
			delete(state, k)
		}
	}
	st := *t.state
	st.Epoch, st.Batch = t.pos.Epoch, t.pos.Batch
	cfgJSON, err := json.Marshal(t.cfg)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	m := &checkpoint.Manifest{
		Step:          t.step,
		Model:         t.model,
		Parameters:    model.CountParameters(t.gctx),
		Features:      t.cfg.Features.WithDefaults(),
		Normalization: t.norm,
		Vocabulary:    t.vocab,
		Metrics:       checkpoint.Metrics{LearningRate: t.lastLR},
		Training:      &st,
		Config:        cfgJSON,
	}
	if t.tokSinceCk > 0 {
		m.Metrics.TrainLoss = t.lossSinceCk / t.tokSinceCk
	}
	best := false
	if t.lastEval != nil && t.lastEval.Step == t.step {
		m.Metrics.Eval = t.lastEval
		if checkpoint.CompareEval(t.lastEval, t.best) <= 0 { // newest among equals, as checkpoint.Best
			t.best, best = t.lastEval, true
		}
	}
	ck, err := checkpoint.Save(t.runDir, m, weights, state)
	if err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	removed, err := checkpoint.Prune(t.runDir, t.cfg.Checkpoint.Keep, *t.cfg.Checkpoint.KeepBest)
	if err != nil {
		t.log.Warn("cannot remove old checkpoints", "err", err)
	}
	d := time.Since(start)
	t.res.CheckpointTime += d
	t.res.Checkpoint = ck.Dir
	t.lastSaved, t.lastSavedAt = t.step, time.Now()
	t.lossSinceCk, t.tokSinceCk = 0, 0
	t.emit(Event{Type: EventCheckpoint, Checkpoint: &CheckpointInfo{Dir: ck.Dir, Seconds: d.Seconds(), Best: best, Removed: removed}})
	t.writeStatus(t.current, "")
	return nil
}
