package train

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gomlx/gomlx/backends"
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
	// refused with ErrRunExists unless Force is set too, which deletes what
	// earlier training wrote there (the checkpoints, see
	// checkpoint.RemoveCheckpoints, the run's JSONL log and its status
	// file) and nothing else. Without Fresh, training resumes from the
	// newest usable checkpoint when there is one.
	Fresh, Force bool
	// StopAtStep, when positive, stops (saving a checkpoint) once this step
	// is reached, before the end of the schedule; a later run resumes.
	StopAtStep int64
	// Observer receives every training event (see Event).
	Observer Observer
	// Logger receives warnings and notes. Nil means silence (the events
	// still go to Observer and the JSONL log).
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
	cfg      Config // defaults filled in
	opts     Options
	log      *slog.Logger
	runDir   string
	observe  Observer
	jsonl    *os.File
	jsonlOut Observer // writes to jsonl
	res      *Result

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
		t.log = slog.New(slog.DiscardHandler)
	}
	unlock, err := t.openRunDir()
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
	defer t.closeLog()
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
