package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
)

// FormatVersion is the version of the checkpoint and model-directory format
// written by this package. A manifest with a newer version is refused with
// a clear error instead of being misread. Version 2 stores tensors as
// safetensors files (WeightsFile, StateFile); version 1 directories, whose
// tensor files are in asrkit's former ASRKTF01 format (weights.tensors,
// state.tensors), are still read, and [Export] of one writes version 2.
const FormatVersion = 2

// File names inside a checkpoint or model directory.
const (
	// ManifestFile is the JSON manifest ([Manifest]).
	ManifestFile = "manifest.json"
	// WeightsFile holds the model weights, a safetensors file (readable
	// from Python, numpy and other tools; see internal/tensorfile for the
	// checksums in its metadata): one tensor per variable under the
	// model's scope, named by its full GoMLX path ("/model/output/weights").
	WeightsFile = "weights.safetensors"
	// StateFile holds the rest of the training state of a checkpoint, a
	// safetensors file: the optimizer's moments and the random-number
	// generator state. Model directories have none.
	StateFile = "state.safetensors"
	// LMFile is the language model a model directory may carry (see
	// [Decoding]): an ARPA file, gzip-compressed.
	LMFile = "lm.arpa.gz"

	// The tensor files of format version 1 (ASRKTF01), read only.
	legacyWeightsFile = "weights.tensors"
	legacyStateFile   = "state.tensors"
)

// isWeightsFile, isStateFile and isTensorFile tell the tensor files of a
// directory of either format version.
func isWeightsFile(name string) bool { return name == WeightsFile || name == legacyWeightsFile }
func isStateFile(name string) bool   { return name == StateFile || name == legacyStateFile }
func isTensorFile(name string) bool  { return isWeightsFile(name) || isStateFile(name) }

// Kind says what a directory holds.
type Kind string

// Kinds of saved model.
const (
	// KindCheckpoint is one saved training step inside a run directory, with
	// optimizer state.
	KindCheckpoint Kind = "checkpoint"
	// KindModel is a model directory written by export: weights only.
	KindModel Kind = "model"
)

// Manifest describes a checkpoint or a model directory: everything needed
// to rebuild the model that produced the weights (model, feature,
// normalisation and vocabulary configuration), what it scored, and, for a
// checkpoint, where training stood. It is stored as manifest.json.
type Manifest struct {
	// FormatVersion is the format version of the directory ([FormatVersion]).
	FormatVersion int `json:"format_version"`
	// Kind is "checkpoint" or "model".
	Kind Kind `json:"kind"`
	// Step is the number of optimizer steps the weights have had.
	Step int64 `json:"step"`
	// Time is when the directory was written (UTC).
	Time time.Time `json:"time"`
	// Model is the resolved model configuration (every field filled in, so a
	// later change of a preset does not change a saved model).
	Model model.Config `json:"model"`
	// Parameters is the number of model weights.
	Parameters int `json:"parameters"`
	// Features is the feature configuration with every default filled in.
	Features features.Config `json:"features"`
	// Normalization is the global per-band normalisation the model was
	// trained with; apply it to the features before the model.
	Normalization features.Normalization `json:"normalization"`
	// Vocabulary maps the model's output ids to characters (blank at 0).
	Vocabulary *text.Vocabulary `json:"vocabulary"`
	// Metrics are the training loss and the latest evaluation.
	Metrics Metrics `json:"metrics"`
	// Training is where training stood (checkpoints only).
	Training *TrainingState `json:"training,omitempty"`
	// Config is the complete training configuration (the YAML file as the
	// trainer understood it, defaults filled in), as JSON. Package asr/train
	// decodes it; it is kept verbatim here so that every checkpoint records
	// how it was made.
	Config json.RawMessage `json:"config,omitempty"`
	// Export says how a model directory was made (model directories only).
	Export *ExportInfo `json:"export,omitempty"`
	// Decoding, in a model directory, is how the model is decoded when the
	// caller does not choose (see [Decoding]); nil means greedy decoding.
	Decoding *Decoding `json:"decoding,omitempty"`
	// Files lists the files of the directory (tensor files, and the
	// language model when there is one) and their sizes, so that a
	// truncated file is noticed before it is read.
	Files []FileInfo `json:"files"`
}

// Decoding is the decoder a model directory asks for by default: beam
// search of Beam prefixes, fused with the language model in the file LM of
// the directory (normally [LMFile]) at LMWeight (the scale of the language
// model's natural-log probabilities) and WordBonus (added per word).
// Package asr's Load and LoadDefault decode with it unless their
// asr.DecodingOptions say otherwise (another language model, or NoLM).
type Decoding struct {
	Beam      int     `json:"beam,omitempty"`
	LM        string  `json:"lm,omitempty"`
	LMWeight  float64 `json:"lm_weight,omitempty"`
	WordBonus float64 `json:"word_bonus,omitempty"`
}

// Metrics are a checkpoint's training and evaluation figures.
type Metrics struct {
	// TrainLoss is the mean per-token CTC loss (nats per label) of the
	// training batches since the previous checkpoint.
	TrainLoss float64 `json:"train_loss,omitempty"`
	// LearningRate is the learning rate of the last step.
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Eval is the latest evaluation on the validation set, or nil if the
	// model has not been evaluated.
	Eval *EvalMetrics `json:"eval,omitempty"`
}

// EvalMetrics are the results of one evaluation on the validation set with
// greedy decoding.
type EvalMetrics struct {
	// Step is the optimizer step the evaluation was made at.
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

// TrainingState is where training stood when a checkpoint was saved:
// enough, with the optimizer and random-number state in StateFile, to
// continue exactly as if training had not stopped.
type TrainingState struct {
	// Epoch and Batch are the data position of the next batch to train on
	// (see asr/data's Position).
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// TotalSteps is the planned length of training, which the learning-rate
	// schedule depends on.
	TotalSteps int64 `json:"total_steps"`
	// AudioSeconds and Utterances count the training audio seen so far.
	AudioSeconds float64 `json:"audio_seconds"`
	Utterances   int64   `json:"utterances"`
	// TrainSeconds is the wall time spent in training steps so far (not
	// counting evaluation, checkpoints and data preparation).
	TrainSeconds float64 `json:"train_seconds"`
	// Seed is the training seed (weights initialisation and dropout).
	Seed int64 `json:"seed"`
	// Precision is the compute precision of the training steps
	// (train.precision: "float32" or "bfloat16"; empty in checkpoints
	// written before it was recorded, which means float32). The weights
	// are float32 either way, and inference computes in float32.
	Precision model.Precision `json:"precision,omitempty"`
}

// ExportInfo records how a model directory was made from a run directory.
type ExportInfo struct {
	// Source is the run directory.
	Source string `json:"source"`
	// Checkpoints are the steps whose weights were used: one (the best) or
	// several that were averaged.
	Checkpoints []int64 `json:"checkpoints"`
	// Averaged is true when the weights are the mean of several checkpoints.
	Averaged bool `json:"averaged"`
	// Float16 is true when the weights are stored in half precision.
	Float16 bool `json:"float16"`
}

// FileInfo is one tensor file of a checkpoint or model directory.
type FileInfo struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// Validate reports every problem with the manifest at once.
func (m *Manifest) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case m.FormatVersion <= 0:
		bad("format_version %d is missing or invalid", m.FormatVersion)
	case m.FormatVersion > FormatVersion:
		bad("format_version %d is newer than this asrkit reads (%d): upgrade asrkit", m.FormatVersion, FormatVersion)
	}
	if m.Kind != KindCheckpoint && m.Kind != KindModel {
		bad("kind %q is neither %q nor %q", m.Kind, KindCheckpoint, KindModel)
	}
	if m.Step < 0 {
		bad("step %d is negative", m.Step)
	}
	if err := m.Model.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := m.Features.Validate(); err != nil {
		errs = append(errs, err)
	}
	if m.Vocabulary == nil {
		bad("no vocabulary")
	} else if m.Model.VocabSize != 0 && m.Vocabulary.Size() != m.Model.VocabSize {
		bad("vocabulary has %d symbols but model.vocab_size is %d", m.Vocabulary.Size(), m.Model.VocabSize)
	}
	if err := m.Normalization.Validate(); err != nil {
		errs = append(errs, err)
	} else if n := m.Features.WithDefaults().NumMels; len(m.Normalization.Mean) != n {
		bad("normalization has %d bands but features.n_mels is %d", len(m.Normalization.Mean), n)
	}
	if m.Model.InputDim != 0 && m.Model.InputDim != m.Features.WithDefaults().NumMels {
		bad("model.input_dim %d differs from features.n_mels %d", m.Model.InputDim, m.Features.WithDefaults().NumMels)
	}
	if m.Kind == KindCheckpoint && m.Training == nil {
		bad("a checkpoint manifest needs its training state")
	}
	if m.Training != nil {
		if err := m.Training.Precision.Validate(); err != nil {
			bad("training.precision: %w", err)
		}
	}
	if e := m.Metrics.Eval; e != nil && (bad01(e.WER) || bad01(e.CER)) {
		bad("eval metrics out of range: wer %v, cer %v", e.WER, e.CER)
	}
	hasWeights := false
	for _, f := range m.Files {
		if isWeightsFile(f.Name) {
			hasWeights = true
		}
		if f.Name != filepath.Base(f.Name) || f.Name == "" || f.Name == "." || f.Name == ".." {
			bad("file name %q is not a plain name", f.Name)
		}
		if f.Size < 0 {
			bad("file %s has negative size %d", f.Name, f.Size)
		}
	}
	if !hasWeights {
		bad("files does not list %s", WeightsFile)
	}
	if d := m.Decoding; d != nil {
		if d.Beam < 0 {
			bad("decoding.beam %d is negative", d.Beam)
		}
		if d.LMWeight < 0 || math.IsNaN(d.LMWeight) || math.IsInf(d.LMWeight, 0) {
			bad("decoding.lm_weight %v must be finite and >= 0", d.LMWeight)
		}
		if math.IsNaN(d.WordBonus) || math.IsInf(d.WordBonus, 0) {
			bad("decoding.word_bonus %v must be finite", d.WordBonus)
		}
		if d.LM != "" && !slices.ContainsFunc(m.Files, func(f FileInfo) bool { return f.Name == d.LM }) {
			bad("decoding.lm %q is not among the files", d.LM)
		}
	}
	return errors.Join(errs...)
}

// bad01 reports whether an error rate is unusable (NaN, infinite or
// negative; rates above 1 are possible when there are many insertions).
func bad01(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) || x < 0 }

// ReadManifest reads and validates dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	return readManifest(osDirFS(dir), dir)
}

// readManifest reads and validates the manifest at the root of fsys, which
// holds the directory dir (named in errors).
func readManifest(fsys fs.FS, dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	raw, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no %s", ErrNotModel, dir, ManifestFile)
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return &m, nil
}

// marshal returns the manifest as indented JSON with a final newline.
func (m *Manifest) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return append(b, '\n'), nil
}
