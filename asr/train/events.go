package train

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/asrkit/asrkit/asr/checkpoint"
)

// EventType tags an [Event]; it is the "type" field of its JSON form.
type EventType string

// Event types.
const (
	// EventState: the job changed state (Event.State).
	EventState EventType = "state"
	// EventMetrics: training progress, every log.every steps (Event.Metrics).
	EventMetrics EventType = "metrics"
	// EventEval: an evaluation on the validation set finished (Event.Eval).
	EventEval EventType = "eval"
	// EventCheckpoint: a checkpoint was saved (Event.Checkpoint).
	EventCheckpoint EventType = "checkpoint"
	// EventCompile: a graph was built and compiled for a new batch shape
	// (Event.Compile).
	EventCompile EventType = "compile"
	// EventError: training failed (Event.Error); a "failed" state follows.
	EventError EventType = "error"
)

// State is a training job's state.
type State string

// States, in the order a job usually goes through them.
const (
	StatePreparing  State = "preparing"  // checking data, building the feature cache, creating the backend
	StateTraining   State = "training"   // running steps
	StateEvaluating State = "evaluating" // evaluating on the validation set
	StateStopping   State = "stopping"   // cancelled: finishing the step and saving
	StateFinished   State = "finished"   // reached the last step
	StateStopped    State = "stopped"    // stopped early (cancelled, or Options.StopAtStep), saved
	StateFailed     State = "failed"     // ended with an error
)

// Event is one message of the training event stream: what the progress bar,
// the log lines and the JSONL log (one Event per line) consume. Its JSON
// form is
//
//	{"type": "metrics", "time": "2026-01-02T15:04:05.123Z", "step": 120, "total_steps": 2000, "epoch": 3, "metrics": {...}}
//
// with exactly one of state, metrics, eval, checkpoint, compile or error
// present, as named by type. Times are RFC 3339, durations and rates are
// float seconds.
type Event struct {
	Type EventType `json:"type"`
	Time time.Time `json:"time"`
	// Step is the number of optimizer steps done so far; TotalSteps the
	// planned number.
	Step       int64 `json:"step"`
	TotalSteps int64 `json:"total_steps"`
	// Epoch is the epoch of the next training batch.
	Epoch int `json:"epoch"`

	State      *StateInfo      `json:"state,omitempty"`
	Metrics    *Metrics        `json:"metrics,omitempty"`
	Eval       *EvalResult     `json:"eval,omitempty"`
	Checkpoint *CheckpointInfo `json:"checkpoint,omitempty"`
	Compile    *CompileInfo    `json:"compile,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// StateInfo is the payload of a state event.
type StateInfo struct {
	State State `json:"state"`
	// Message says more, e.g. which backend was chosen or why training
	// stopped.
	Message string `json:"message,omitempty"`
	// RunDir is the run directory.
	RunDir string `json:"run_dir,omitempty"`
	// Backend describes the compute backend (set once it is known).
	Backend string `json:"backend,omitempty"`
	// Resumed is the step training resumed from, when it did.
	Resumed int64 `json:"resumed,omitempty"`
}

// Metrics is the payload of a metrics event: averages over the steps since
// the previous metrics event.
type Metrics struct {
	// Loss is the mean CTC loss per label token (nats) over the interval.
	Loss float64 `json:"loss"`
	// LearningRate is the learning rate of the last step.
	LearningRate float64 `json:"learning_rate"`
	// GradNorm is the mean global gradient norm before clipping.
	GradNorm float64 `json:"grad_norm"`
	// Steps is the number of steps in the interval; SkippedSteps of them had
	// a non-finite gradient and changed nothing.
	Steps        int `json:"steps"`
	SkippedSteps int `json:"skipped_steps,omitempty"`
	// Utterances and AudioSeconds are the training data of the interval
	// (unpadded audio).
	Utterances   int     `json:"utterances"`
	AudioSeconds float64 `json:"audio_seconds"`
	// PaddedSeconds is the audio the batches held with their padding
	// (batch rows × padded frames): AudioSeconds/PaddedSeconds is the
	// fraction of the computation spent on real audio.
	PaddedSeconds float64 `json:"padded_seconds"`
	// GFLOPS estimates the model's matrix arithmetic per second: three times
	// model.Config.FLOPs of the padded batches (forward and backward), over
	// the interval's wall time.
	GFLOPS float64 `json:"gflops"`
	// StepsPerSecond and AudioSecondsPerSecond are the throughput over the
	// interval's wall time (data waits included; evaluation, checkpoints and
	// graph compilation excluded), counted over the interval's steps that
	// compiled no graph (the first step of each batch shape runs inside its
	// compilation); 0 when every step of the interval compiled.
	StepsPerSecond        float64 `json:"steps_per_second"`
	AudioSecondsPerSecond float64 `json:"audio_seconds_per_second"`
	// DataWait is the time spent waiting for batches in the interval.
	DataWait float64 `json:"data_wait"`
	// Elapsed is the training time so far (steps only), over all runs of the job.
	Elapsed float64 `json:"elapsed"`
	// ETA estimates the training time left, from the interval's speed.
	ETA float64 `json:"eta"`
}

// EvalResult is the payload of an eval event.
type EvalResult struct {
	checkpoint.EvalMetrics
	// Seconds is the wall time of the evaluation.
	Seconds float64 `json:"seconds"`
	// Samples are a few predictions next to their references.
	Samples []Sample `json:"samples,omitempty"`
}

// Sample is one validation utterance's prediction.
type Sample struct {
	ID         string `json:"id"`
	Reference  string `json:"reference"`
	Hypothesis string `json:"hypothesis"`
}

// CheckpointInfo is the payload of a checkpoint event.
type CheckpointInfo struct {
	// Dir is the checkpoint's folder.
	Dir string `json:"dir"`
	// Seconds is the time taken to save it (and prune old ones).
	Seconds float64 `json:"seconds"`
	// Best is true when it is the run's best checkpoint by validation WER.
	Best bool `json:"best,omitempty"`
	// Removed lists checkpoints deleted by the keep policy.
	Removed []string `json:"removed,omitempty"`
}

// CompileInfo is the payload of a compile event.
type CompileInfo struct {
	// Graph is "train", "accumulate", "apply" or "eval".
	Graph string `json:"graph"`
	// BatchSize and Frames are the batch shape compiled for.
	BatchSize int `json:"batch_size"`
	Frames    int `json:"frames"`
	// Seconds is the time to build and compile the graph, including its
	// first run (milliseconds on a GPU, a step's time on the CPU).
	Seconds float64 `json:"seconds"`
}

// String is a one-line human description of the event.
func (e Event) String() string {
	var b strings.Builder
	switch e.Type {
	case EventState:
		fmt.Fprintf(&b, "%s", e.State.State)
		if e.State.Message != "" {
			fmt.Fprintf(&b, ": %s", e.State.Message)
		}
	case EventMetrics:
		m := e.Metrics
		fmt.Fprintf(&b, "step %d/%d loss %.4f lr %.3g grad-norm %.3g %.1f audio-s/s %.2f steps/s",
			e.Step, e.TotalSteps, m.Loss, m.LearningRate, m.GradNorm, m.AudioSecondsPerSecond, m.StepsPerSecond)
		if m.SkippedSteps > 0 {
			fmt.Fprintf(&b, " (%d skipped: non-finite gradient)", m.SkippedSteps)
		}
	case EventEval:
		v := e.Eval
		fmt.Fprintf(&b, "eval at step %d: WER %.2f%% CER %.2f%% loss %.4f on %d utterances (%.1fs)",
			e.Step, 100*v.WER, 100*v.CER, v.Loss, v.Utterances, v.Seconds)
	case EventCheckpoint:
		fmt.Fprintf(&b, "checkpoint %s saved in %.2fs", e.Checkpoint.Dir, e.Checkpoint.Seconds)
		if e.Checkpoint.Best {
			b.WriteString(" (best)")
		}
	case EventCompile:
		c := e.Compile
		fmt.Fprintf(&b, "compiled %s graph for batch %dx%d frames in %.2fs", c.Graph, c.BatchSize, c.Frames, c.Seconds)
	case EventError:
		fmt.Fprintf(&b, "error: %s", e.Error)
	default:
		fmt.Fprintf(&b, "%s event", e.Type)
	}
	return b.String()
}

// Observer receives training events, synchronously, on the training
// goroutine: it must return quickly (hand slow work to another goroutine).
type Observer func(Event)

// Tee returns an observer that passes each event to every non-nil observer
// in turn.
func Tee(observers ...Observer) Observer {
	return func(e Event) {
		for _, o := range observers {
			if o != nil {
				o(e)
			}
		}
	}
}

// JSONLWriter returns an observer that writes each event to w as one line
// of JSON. The first write error is reported to onError (nil: ignored);
// later ones are not.
func JSONLWriter(w io.Writer, onError func(error)) Observer {
	var mu sync.Mutex
	failed := false
	return func(e Event) {
		b, err := json.Marshal(e)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := w.Write(append(b, '\n')); err != nil && !failed {
			failed = true
			if onError != nil {
				onError(err)
			}
		}
	}
}

// LogEvents returns an observer that logs each event as one slog line
// (what `asr train` prints when stderr is not a terminal). A nil logger
// logs nothing.
func LogEvents(logger *slog.Logger) Observer {
	if logger == nil {
		return func(Event) {}
	}
	return func(e Event) {
		switch e.Type {
		case EventMetrics:
			m := e.Metrics
			logger.Info("train", "step", e.Step, "of", e.TotalSteps, "epoch", e.Epoch, "loss", round(m.Loss, 4),
				"lr", roundSig(m.LearningRate, 4), "grad_norm", roundSig(m.GradNorm, 4),
				"audio_s_per_s", round(m.AudioSecondsPerSecond, 1), "steps_per_s", round(m.StepsPerSecond, 2),
				"eta", time.Duration(m.ETA*float64(time.Second)).Round(time.Second))
		case EventEval:
			v := e.Eval
			logger.Info("eval", "step", e.Step, "wer", round(100*v.WER, 2), "cer", round(100*v.CER, 2), "loss", round(v.Loss, 4),
				"utterances", v.Utterances, "seconds", round(v.Seconds, 1))
			for _, s := range v.Samples {
				logger.Info("sample", "id", s.ID, "ref", s.Reference, "hyp", s.Hypothesis)
			}
		case EventCheckpoint:
			logger.Info("checkpoint", "step", e.Step, "dir", e.Checkpoint.Dir, "seconds", round(e.Checkpoint.Seconds, 2), "best", e.Checkpoint.Best)
		case EventCompile:
			c := e.Compile
			logger.Info("compiled", "graph", c.Graph, "batch", c.BatchSize, "frames", c.Frames, "seconds", round(c.Seconds, 2))
		case EventState:
			args := []any{"state", e.State.State, "step", e.Step}
			if e.State.Message != "" {
				args = append(args, "msg", e.State.Message)
			}
			if e.State.Backend != "" {
				args = append(args, "backend", e.State.Backend)
			}
			if e.State.RunDir != "" {
				args = append(args, "run_dir", e.State.RunDir)
			}
			logger.Info("job", args...)
		case EventError:
			logger.Error("training failed", "step", e.Step, "err", e.Error)
		}
	}
}

// roundSig rounds x to digits significant digits.
func roundSig(x float64, digits int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	return round(x, digits-1-int(math.Floor(math.Log10(math.Abs(x)))))
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
