package api

import (
	"net/url"
	"strconv"
	"time"
)

// Error is the body of every error response.
type Error struct {
	// Error says what went wrong, for people.
	Error string `json:"error"`
}

// Health is the response of GET /healthz.
type Health struct {
	// Status is "ok" while the server accepts requests.
	Status string `json:"status"`
	// Version is the server's build version.
	Version string `json:"version"`
	// Model names the model being served (see ModelInfo.Name).
	Model string `json:"model"`
	// Uptime is the time since the server started, in seconds.
	Uptime float64 `json:"uptime"`
	// RunningJob is the id of the training job running now, "" if none.
	RunningJob string `json:"running_job,omitempty"`
}

// Output formats of POST /v1/transcribe (the format query parameter).
const (
	FormatJSON = "json" // a Transcript (the default)
	FormatText = "text" // the text and a newline, text/plain
	FormatSRT  = "srt"  // SubRip subtitles
	FormatVTT  = "vtt"  // WebVTT subtitles
)

// TranscribeOptions are the query parameters of POST /v1/transcribe (and
// of GET /v1/stream, except Format). Nil and zero fields keep the served
// model's settings.
type TranscribeOptions struct {
	// Format is the response format: "json" (default), "text", "srt" or
	// "vtt". Query parameter: format.
	Format string
	// Beam is the beam width: 1 decodes greedily (unless a language model
	// is used), 2 or more runs beam search. Nil keeps the model's decoder.
	// Query parameter: beam.
	Beam *int
	// LMWeight is the weight of the language model's log-probabilities,
	// which needs a model with a language model. Nil keeps the model's.
	// Query parameter: lm_weight.
	LMWeight *float64
	// WordBonus is the log-probability bonus per word in beam search. Nil
	// keeps the model's. Query parameter: word_bonus.
	WordBonus *float64
	// NoLM decodes without the model's language model (greedily unless Beam
	// says otherwise). Query parameter: no_lm=true.
	NoLM bool
}

// Values encodes the options as query parameters.
func (o TranscribeOptions) Values() url.Values {
	v := url.Values{}
	if o.Format != "" {
		v.Set("format", o.Format)
	}
	if o.Beam != nil {
		v.Set("beam", strconv.Itoa(*o.Beam))
	}
	if o.LMWeight != nil {
		v.Set("lm_weight", strconv.FormatFloat(*o.LMWeight, 'g', -1, 64))
	}
	if o.WordBonus != nil {
		v.Set("word_bonus", strconv.FormatFloat(*o.WordBonus, 'g', -1, 64))
	}
	if o.NoLM {
		v.Set("no_lm", "true")
	}
	return v
}

// Transcript is the JSON response of POST /v1/transcribe.
type Transcript struct {
	// Text is the words separated by single spaces (lower-case letters and
	// apostrophes).
	Text string `json:"text"`
	// Duration is the length of the audio, in seconds.
	Duration float64 `json:"duration"`
	// Words are the recognised words in order; [] when there are none.
	Words []Word `json:"words"`
	// Model names the model that transcribed the audio (ModelInfo.Name).
	Model string `json:"model"`
	// Decoder describes the decoder used, e.g. "greedy" or
	// "beam(width=8), lm order 2 weight 0.5".
	Decoder string `json:"decoder"`
	// ProcessingTime is the time spent transcribing (after the upload was
	// decoded), in seconds.
	ProcessingTime float64 `json:"processing_time"`
}

// Word is one recognised word of a Transcript.
type Word struct {
	// Word is the word's text.
	Word string `json:"word"`
	// Start and End locate the word from the start of the audio, in
	// seconds (to the model's 40 ms frame).
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Confidence in [0, 1] is the mean over the word's characters of each
	// character's highest posterior probability.
	Confidence float64 `json:"confidence"`
}

// Kinds of model (ModelInfo.Kind).
const (
	// KindBundled is the model built into the binary.
	KindBundled = "bundled"
	// KindModel is a model directory (from export).
	KindModel = "model"
	// KindCheckpoint is one checkpoint of a run directory.
	KindCheckpoint = "checkpoint"
	// KindRun is a run directory, which loads as its best checkpoint.
	KindRun = "run"
)

// ModelInfo describes a model: the one being served, or one that POST
// /v1/models/load accepts.
type ModelInfo struct {
	// Name is what LoadModelRequest.Path accepts for it: "bundled", a path
	// relative to the checkpoint root, or an absolute path.
	Name string `json:"name"`
	// Path is the absolute directory ("" for the bundled model). For a run
	// directory it is the run directory, not its best checkpoint.
	Path string `json:"path,omitempty"`
	// Kind is "bundled", "model", "checkpoint" or "run".
	Kind string `json:"kind"`
	// Job is the training job the model comes from, when it lives in a run
	// directory under the checkpoint root.
	Job string `json:"job,omitempty"`
	// Preset is the model preset ("tiny", "small", "medium" or "custom").
	Preset string `json:"preset,omitempty"`
	// Parameters is the number of model weights.
	Parameters int `json:"parameters,omitempty"`
	// Step is the number of training steps of the weights.
	Step int64 `json:"step"`
	// Eval is the validation result recorded with the weights, if any.
	Eval *EvalMetrics `json:"eval,omitempty"`
	// Time is when the weights were saved.
	Time time.Time `json:"time,omitzero"`
	// Error says why the model cannot be loaded (a damaged manifest); the
	// other fields may then be empty.
	Error string `json:"error,omitempty"`

	// The remaining fields are set for the model being served only.

	// Decoder describes the default decoder ("greedy", "beam(width=8), lm
	// order 2 weight 0.5").
	Decoder string `json:"decoder,omitempty"`
	// Backend is the compute backend ("go", or "xla:" and the plugin path).
	Backend string `json:"backend,omitempty"`
	// SampleRate is the rate the model works at, in Hz (other rates are
	// resampled).
	SampleRate int `json:"sample_rate,omitempty"`
	// LoadedAt is when the server loaded it.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
}

// EvalMetrics are the results of one evaluation on a validation set
// (greedy decoding).
type EvalMetrics struct {
	// Step is the training step the evaluation was made at.
	Step int64 `json:"step"`
	// WER and CER are the corpus word and character error rates, as
	// fractions (0.125 is 12.5%).
	WER float64 `json:"wer"`
	CER float64 `json:"cer"`
	// Loss is the mean per-token CTC loss on the validation set.
	Loss float64 `json:"loss"`
	// Utterances and Words are the size of the evaluated set.
	Utterances int `json:"utterances"`
	Words      int `json:"words"`
}

// Models is the response of GET /v1/models.
type Models struct {
	// Loaded is the model being served.
	Loaded ModelInfo `json:"loaded"`
	// Available are the models POST /v1/models/load accepts by name: the
	// bundled model, the exported model directories and the run
	// directories under the checkpoint root, newest first after the
	// bundled one.
	Available []ModelInfo `json:"available"`
}

// LoadModelRequest is the body of POST /v1/models/load. The server loads
// the new model, then switches to it: requests in flight finish on the
// old one, which is released after them.
type LoadModelRequest struct {
	// Path names the model: "bundled"; a model directory, a checkpoint
	// directory or a run directory (its best checkpoint), either relative
	// to the checkpoint root or absolute (under the checkpoint or data
	// root, or the --model the server started with).
	Path string `json:"path"`
	// Beam, LMWeight, WordBonus and NoLM set the model's default decoding,
	// as TranscribeOptions do per request; nil and false keep what the
	// model directory asks for.
	Beam      *int     `json:"beam,omitempty"`
	LMWeight  *float64 `json:"lm_weight,omitempty"`
	WordBonus *float64 `json:"word_bonus,omitempty"`
	NoLM      bool     `json:"no_lm,omitempty"`
}

// JobState is the state of a training job.
type JobState string

// Job states. The trainer reports the first seven; the server adds
// starting and interrupted.
const (
	// JobStarting: the training process was started and has not reported yet.
	JobStarting JobState = "starting"
	// JobPreparing: checking the data, building the feature cache, creating
	// the backend.
	JobPreparing JobState = "preparing"
	// JobTraining: running steps.
	JobTraining JobState = "training"
	// JobEvaluating: evaluating on the validation set.
	JobEvaluating JobState = "evaluating"
	// JobStopping: asked to stop; finishing the step and saving a checkpoint.
	JobStopping JobState = "stopping"
	// JobFinished: reached the last step.
	JobFinished JobState = "finished"
	// JobStopped: stopped on request, after saving a checkpoint.
	JobStopped JobState = "stopped"
	// JobFailed: ended with an error (Job.Error says which), or its
	// process died (killed, out of memory).
	JobFailed JobState = "failed"
	// JobInterrupted: the job was running when the server stopped (a
	// redeploy, a crash); it resumes from its last checkpoint on POST
	// /v1/train/{id}/resume, or by itself when the server runs with
	// --resume-jobs.
	JobInterrupted JobState = "interrupted"
)

// Active reports whether a job in state s has a running process.
func (s JobState) Active() bool {
	switch s {
	case JobStarting, JobPreparing, JobTraining, JobEvaluating, JobStopping:
		return true
	}
	return false
}

// Job is a training job: one run directory under the checkpoint root,
// whose name is the job's id.
type Job struct {
	// ID is the job's id, the name of its run directory.
	ID string `json:"id"`
	// State is where the job stands.
	State JobState `json:"state"`
	// Message says more about the state (e.g. "stopped at step 300 of 500").
	Message string `json:"message,omitempty"`
	// Error says why the job failed (state failed).
	Error string `json:"error,omitempty"`
	// RunDir is the run directory.
	RunDir string `json:"run_dir"`
	// Managed is true when the server holds the job's config (config.yaml
	// in the run directory) and can resume it; runs started with
	// `asr train` into the checkpoint root are listed but not managed.
	Managed bool `json:"managed"`
	// PID is the training process's id while it runs.
	PID int `json:"pid,omitempty"`
	// Step is the number of optimizer steps done; TotalSteps the planned
	// number; Epoch the epoch of the next batch.
	Step       int64 `json:"step"`
	TotalSteps int64 `json:"total_steps"`
	Epoch      int   `json:"epoch"`
	// ETA estimates the training time left, in seconds (while training).
	ETA float64 `json:"eta,omitempty"`
	// Backend is the compute backend of the last run.
	Backend string `json:"backend,omitempty"`
	// Created is when the job was submitted; Updated when its state last
	// changed.
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
	// LastMetrics are the latest training metrics.
	LastMetrics *TrainMetrics `json:"last_metrics,omitempty"`
	// LastEval is the latest evaluation on the validation set.
	LastEval *TrainEval `json:"last_eval,omitempty"`
	// Checkpoint is the newest checkpoint's folder.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// TrainCheck is the response of POST /v1/train?dry_run=true: the config
// is valid and the job could start (nothing was started or written).
type TrainCheck struct {
	// ID is the job's id, as the same request without dry_run would make it.
	ID string `json:"id"`
	// RunDir is the run directory it would train into.
	RunDir string `json:"run_dir"`
	// Config is the config the job would run (YAML, paths resolved).
	Config string `json:"config"`
}

// JobList is the response of GET /v1/train: every job, newest first.
type JobList struct {
	Jobs []Job `json:"jobs"`
}

// TrainEvent is one training event: a line of the run's train.jsonl and a
// message of the /v1/train/{id}/events WebSocket. Exactly one of State,
// Metrics, Eval, Checkpoint, Compile or Error is set, as Type says.
type TrainEvent struct {
	// Type is "state", "metrics", "eval", "checkpoint", "compile" or "error".
	Type string `json:"type"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Step is the number of optimizer steps done; TotalSteps the planned
	// number; Epoch the epoch of the next batch.
	Step       int64 `json:"step"`
	TotalSteps int64 `json:"total_steps"`
	Epoch      int   `json:"epoch"`

	State      *TrainState      `json:"state,omitempty"`
	Metrics    *TrainMetrics    `json:"metrics,omitempty"`
	Eval       *TrainEval       `json:"eval,omitempty"`
	Checkpoint *TrainCheckpoint `json:"checkpoint,omitempty"`
	Compile    *TrainCompile    `json:"compile,omitempty"`
	// Error is the error of an "error" event.
	Error string `json:"error,omitempty"`
}

// Event types (TrainEvent.Type).
const (
	EventState      = "state"
	EventMetrics    = "metrics"
	EventEval       = "eval"
	EventCheckpoint = "checkpoint"
	EventCompile    = "compile"
	EventError      = "error"
)

// TrainState is the payload of a "state" event.
type TrainState struct {
	// State is the trainer's state: preparing, training, evaluating,
	// stopping, finished, stopped or failed.
	State JobState `json:"state"`
	// Message says more (the backend chosen, why training stopped).
	Message string `json:"message,omitempty"`
	// RunDir is the run directory.
	RunDir string `json:"run_dir,omitempty"`
	// Backend describes the compute backend, once known.
	Backend string `json:"backend,omitempty"`
	// Resumed is the step training resumed from, when it did.
	Resumed int64 `json:"resumed,omitempty"`
}

// TrainMetrics is the payload of a "metrics" event: averages over the
// steps since the previous one.
type TrainMetrics struct {
	// Loss is the mean CTC loss per label token (nats).
	Loss float64 `json:"loss"`
	// LearningRate is the learning rate of the last step.
	LearningRate float64 `json:"learning_rate"`
	// GradNorm is the mean global gradient norm before clipping.
	GradNorm float64 `json:"grad_norm"`
	// Steps is the number of steps averaged; SkippedSteps of them had a
	// non-finite gradient and changed nothing.
	Steps        int `json:"steps"`
	SkippedSteps int `json:"skipped_steps,omitempty"`
	// Utterances and AudioSeconds are the training data of the interval.
	Utterances   int     `json:"utterances"`
	AudioSeconds float64 `json:"audio_seconds"`
	// PaddedSeconds is the audio of the batches with their padding.
	PaddedSeconds float64 `json:"padded_seconds"`
	// GFLOPS estimates the model's matrix arithmetic per second.
	GFLOPS float64 `json:"gflops"`
	// StepsPerSecond and AudioSecondsPerSecond are the throughput.
	StepsPerSecond        float64 `json:"steps_per_second"`
	AudioSecondsPerSecond float64 `json:"audio_seconds_per_second"`
	// DataWait is the time spent waiting for batches, in seconds.
	DataWait float64 `json:"data_wait"`
	// Elapsed is the training time so far over all runs of the job, and
	// ETA the estimated time left, in seconds.
	Elapsed float64 `json:"elapsed"`
	ETA     float64 `json:"eta"`
}

// TrainEval is the payload of an "eval" event.
type TrainEval struct {
	EvalMetrics
	// Seconds is the evaluation's wall time.
	Seconds float64 `json:"seconds"`
	// Samples are a few predictions next to their references.
	Samples []EvalSample `json:"samples,omitempty"`
}

// EvalSample is one validation utterance's prediction.
type EvalSample struct {
	ID         string `json:"id"`
	Reference  string `json:"reference"`
	Hypothesis string `json:"hypothesis"`
}

// TrainCheckpoint is the payload of a "checkpoint" event.
type TrainCheckpoint struct {
	// Dir is the checkpoint's folder.
	Dir string `json:"dir"`
	// Seconds is the time taken to save it.
	Seconds float64 `json:"seconds"`
	// Best is true when it is the run's best checkpoint by validation WER.
	Best bool `json:"best,omitempty"`
	// Removed lists the checkpoints deleted by the keep policy.
	Removed []string `json:"removed,omitempty"`
}

// TrainCompile is the payload of a "compile" event.
type TrainCompile struct {
	// Graph is "train", "accumulate", "apply" or "eval".
	Graph string `json:"graph"`
	// BatchSize and Frames are the batch shape compiled for.
	BatchSize int `json:"batch_size"`
	Frames    int `json:"frames"`
	// Seconds is the time to build and compile the graph.
	Seconds float64 `json:"seconds"`
}

// MetricsHistory is the response of GET /v1/train/{id}/metrics: the
// job's training curve, from its train.jsonl. When a run resumed from a
// checkpoint older than the last events (after a crash), the events past
// the checkpoint are replaced by the resumed run's.
type MetricsHistory struct {
	// Job is the job's id.
	Job string `json:"job"`
	// Metrics are the "metrics" events, by step.
	Metrics []MetricsPoint `json:"metrics"`
	// Evals are the "eval" events, by step.
	Evals []EvalPoint `json:"evals"`
}

// MetricsPoint is one "metrics" event of a MetricsHistory.
type MetricsPoint struct {
	Step int64     `json:"step"`
	Time time.Time `json:"time"`
	TrainMetrics
}

// EvalPoint is one "eval" event of a MetricsHistory.
type EvalPoint struct {
	Time time.Time `json:"time"`
	TrainEval
}

// Checkpoint is one checkpoint of a job (GET /v1/train/{id}/checkpoints).
type Checkpoint struct {
	// Step is the training step saved.
	Step int64 `json:"step"`
	// Dir is the checkpoint's folder (POST /v1/models/load accepts it).
	Dir string `json:"dir"`
	// Time is when it was saved.
	Time time.Time `json:"time,omitzero"`
	// TrainLoss is the mean training loss since the previous checkpoint.
	TrainLoss float64 `json:"train_loss,omitempty"`
	// LearningRate is the learning rate at the step.
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Eval is the evaluation made at the step, if any.
	Eval *EvalMetrics `json:"eval,omitempty"`
	// Best marks the checkpoint export and model loading use: the lowest
	// validation WER, or the newest when none was evaluated.
	Best bool `json:"best,omitempty"`
	// Error says why the checkpoint is unusable (a damaged manifest).
	Error string `json:"error,omitempty"`
}

// CheckpointList is the response of GET /v1/train/{id}/checkpoints,
// oldest first.
type CheckpointList struct {
	Job         string       `json:"job"`
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// ExportRequest is the (optional) body of POST /v1/train/{id}/export. The
// model directory is written to the run directory's "model" folder,
// replacing an earlier export; the response's Name is what POST
// /v1/models/load accepts.
type ExportRequest struct {
	// Average chooses the weights: 0 or 1 the best checkpoint (lowest
	// validation WER), K >= 2 the mean of the K newest checkpoints' weights.
	// Nil follows the job's checkpoint.average_last (the best checkpoint
	// when it is unset).
	Average *int `json:"average,omitempty"`
	// Float16 stores the weights in half precision.
	Float16 bool `json:"float16,omitempty"`
}

// Dataset is a corpus found under the data root.
type Dataset struct {
	// Name is its path relative to the data root: what a training config
	// posted to the server, or DatasetCheckRequest, names it by.
	Name string `json:"name"`
	// Path is its absolute path.
	Path string `json:"path"`
	// Format is "ljspeech" (a folder with metadata.csv and wavs/) or
	// "manifest" (a JSONL manifest).
	Format string `json:"format"`
	// Rows is the number of non-blank lines of its metadata.csv or manifest.
	Rows int `json:"rows"`
}

// DatasetList is the response of GET /v1/datasets.
type DatasetList struct {
	// DataRoot is the server's data root (--data-root).
	DataRoot string `json:"data_root"`
	// Datasets are the corpora found under it (to a depth of three
	// folders), by name.
	Datasets []Dataset `json:"datasets"`
}

// DatasetCheckRequest is the body of POST /v1/datasets/check: one of
// LJSpeech, Manifest or Config names the corpus. Relative paths are under
// the data root.
type DatasetCheckRequest struct {
	// LJSpeech is an LJSpeech-format folder (metadata.csv and wavs/).
	LJSpeech string `json:"ljspeech,omitempty"`
	// Manifest is a JSONL manifest.
	Manifest string `json:"manifest,omitempty"`
	// Config is a training config (YAML or JSON text) whose datasets: and
	// features: sections are checked, as training would.
	Config string `json:"config,omitempty"`
	// SkipInvalid reports invalid items as skipped rather than fatal.
	SkipInvalid bool `json:"skip_invalid,omitempty"`
}

// DataReport is the response of POST /v1/datasets/check: the `asr data
// check` report.
type DataReport struct {
	// Sources are the files read (metadata.csv, manifests).
	Sources []string `json:"sources"`
	// Rows is the number of non-blank rows read.
	Rows int `json:"rows"`
	// Valid is the number of utterances that passed every check, and
	// Seconds their total duration.
	Valid   int     `json:"valid"`
	Seconds float64 `json:"seconds"`
	// Hours is Seconds in hours.
	Hours float64 `json:"hours"`
	// MinSeconds and MaxSeconds bound the valid utterances' durations.
	MinSeconds float64 `json:"min_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
	// Sets counts the valid utterances per split ("train", "val", "test").
	Sets map[string]SetSummary `json:"sets,omitempty"`
	// Corpora counts the valid utterances per corpus (a manifest row's
	// "corpus", else the first folder of its audio path, else the
	// manifest's name; an LJSpeech folder is one corpus), and per split.
	Corpora map[string]CorpusSummary `json:"corpora,omitempty"`
	// Histogram counts the valid utterances by duration, in 1-second bins.
	Histogram []HistogramBin `json:"histogram"`
	// Problems lists every invalid row or utterance, in source order.
	Problems []Problem `json:"problems"`
	// Counts is the number of problems of each kind.
	Counts map[string]int `json:"counts"`
	// Skipped is true when the problems are skipped (skip_invalid) rather
	// than fatal.
	Skipped bool `json:"skipped"`
	// Notes are remarks that are not problems.
	Notes []string `json:"notes,omitempty"`
	// MaxDuration is the longest utterance accepted, in seconds.
	MaxDuration float64 `json:"max_duration"`
	// Error is set when training would stop on these problems; "" otherwise.
	Error string `json:"error,omitempty"`
}

// SetSummary counts the valid utterances of one split.
type SetSummary struct {
	Utterances int     `json:"utterances"`
	Seconds    float64 `json:"seconds"`
}

// CorpusSummary counts the valid utterances of one corpus.
type CorpusSummary struct {
	// Sets counts them per split ("train", "val", "test").
	Sets map[string]SetSummary `json:"sets"`
	// Speakers is the number of distinct speakers (0 when the source does
	// not name them).
	Speakers int `json:"speakers"`
}

// HistogramBin counts valid utterances with durations in [Lo, Hi) seconds.
type HistogramBin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
}

// Problem is one invalid row or utterance of a DataReport.
type Problem struct {
	// ID is the utterance id ("" when a row is too broken to have one).
	ID string `json:"id,omitempty"`
	// Kind is the reason, e.g. "missing audio" or "too short for CTC".
	Kind string `json:"kind"`
	// Detail says exactly what is wrong.
	Detail string `json:"detail"`
	// Source and Line locate the row.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// StreamConfig is the first text message of a /v1/stream session, as in
// the Vosk server protocol: {"config": {"sample_rate": 16000}}. Without it
// the audio is taken to be at 16,000 Hz.
type StreamConfig struct {
	Config StreamSettings `json:"config"`
}

// StreamSettings are the settings of a StreamConfig.
type StreamSettings struct {
	// SampleRate is the rate of the PCM16 audio that follows, in Hz.
	SampleRate float64 `json:"sample_rate"`
}

// StreamEOF is the text message that ends a /v1/stream session's audio:
// {"eof": 1}. The server answers with the final result and closes.
type StreamEOF struct {
	EOF int `json:"eof"`
}

// StreamMessage is a message the server sends on /v1/stream, one per
// audio message received and one after {"eof": 1}, as a Vosk server does:
// either {"partial": "..."} (the words since the last result, which may
// still change), or {"text": "...", "result": [...]} (final words, at a
// pause and at the end), or {"error": "..."} before the server closes the
// session.
type StreamMessage struct {
	// Partial is the tentative text since the last result.
	Partial *string `json:"partial,omitempty"`
	// Text is the final text of the words in Result.
	Text *string `json:"text,omitempty"`
	// Result are the final words (omitted when there are none).
	Result []StreamWord `json:"result,omitempty"`
	// Error says why the session ends.
	Error string `json:"error,omitempty"`
}

// IsFinal reports whether m is a final result ({"text": ...}).
func (m StreamMessage) IsFinal() bool { return m.Text != nil }

// StreamWord is one word of a final stream result, in Vosk's form.
type StreamWord struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Conf  float64 `json:"conf"`
}
