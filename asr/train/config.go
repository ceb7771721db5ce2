package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/strictyaml"
)

// Defaults of the train, checkpoint and log sections; each applies when the
// corresponding field is zero (or nil, for pointers).
const (
	DefaultSteps           = 50000
	DefaultLearningRate    = 1e-3
	DefaultMinLRRatio      = 0.01 // cosine decay ends at learning_rate × this
	DefaultWarmupSteps     = 1000
	DefaultWeightDecay     = 1e-3
	DefaultBeta1           = 0.9
	DefaultBeta2           = 0.98
	DefaultEpsilon         = 1e-8
	DefaultClipGradNorm    = 1.0
	DefaultEvalEvery       = 1000
	DefaultEvalSamples     = 3
	DefaultCheckpointEvery = 1000
	DefaultKeep            = 3
	DefaultKeepBest        = 1
	DefaultLogEvery        = 10
)

// Learning-rate schedules (train.schedule).
const (
	ScheduleCosine   = "cosine"
	ScheduleNoam     = "noam"
	ScheduleConstant = "constant"
)

// Config is a whole training configuration: the YAML file given to
// `asr train --config`. Every section's zero value means its defaults (see
// docs/config.md), so a file needs little more than the dataset path.
// [LoadConfig] reads one strictly; [Config.Validate] reports every problem.
type Config struct {
	// Datasets is the training data (datasets:), read by asr/data.
	Datasets data.Config `yaml:"datasets" json:"datasets"`
	// Features is the log-mel configuration (features:).
	Features features.Config `yaml:"features" json:"features"`
	// Model is the acoustic model: a preset and overrides (model:).
	Model model.Config `yaml:"model" json:"model"`
	// Train holds the optimisation settings (train:).
	Train Settings `yaml:"train" json:"train"`
	// Checkpoint says where and how often checkpoints are written (checkpoint:).
	Checkpoint CheckpointConfig `yaml:"checkpoint" json:"checkpoint"`
	// Log configures the JSONL event log (log:).
	Log LogConfig `yaml:"log" json:"log"`
}

// Settings is the train: section.
type Settings struct {
	// Steps is the number of optimizer steps to train for. Zero means
	// Epochs decides, or DefaultSteps (50,000) when Epochs is zero too.
	Steps int64 `yaml:"steps" json:"steps,omitempty"`
	// Epochs, when Steps is zero, trains for this many passes over the
	// training set (rounded up to whole optimizer steps).
	Epochs float64 `yaml:"epochs" json:"epochs,omitempty"`
	// LearningRate is the peak learning rate. Zero means 1e-3.
	LearningRate float64 `yaml:"learning_rate" json:"learning_rate,omitempty"`
	// MinLearningRate is where the cosine schedule ends. Nil means 1% of
	// LearningRate.
	MinLearningRate *float64 `yaml:"min_learning_rate" json:"min_learning_rate,omitempty"`
	// Schedule is "cosine" (the default: linear warm-up, then cosine decay
	// to MinLearningRate at the last step), "noam" (linear warm-up, then
	// decay as 1/sqrt(step)) or "constant" (warm-up, then constant).
	Schedule string `yaml:"schedule" json:"schedule,omitempty"`
	// WarmupSteps is the length of the linear warm-up, from
	// LearningRate/WarmupSteps at step 1 to LearningRate; 0 means none. Nil
	// means 1000, or a tenth of the steps when that is less. It must be
	// below the number of steps.
	WarmupSteps *int64 `yaml:"warmup_steps" json:"warmup_steps,omitempty"`
	// WeightDecay is AdamW's decoupled weight decay, applied to matrices and
	// kernels but not to biases or normalisation gains. Nil means 1e-3; 0
	// turns it off.
	WeightDecay *float64 `yaml:"weight_decay" json:"weight_decay,omitempty"`
	// Beta1, Beta2 and Epsilon are AdamW's moment decays and denominator
	// guard. Zero means 0.9, 0.98 and 1e-8.
	Beta1   float64 `yaml:"beta1" json:"beta1,omitempty"`
	Beta2   float64 `yaml:"beta2" json:"beta2,omitempty"`
	Epsilon float64 `yaml:"epsilon" json:"epsilon,omitempty"`
	// ClipGradNorm scales the gradient down when its global L2 norm exceeds
	// this. Nil means 1.0; 0 turns clipping off.
	ClipGradNorm *float64 `yaml:"clip_grad_norm" json:"clip_grad_norm,omitempty"`
	// GradAccumulation is the number of batches whose gradients are summed
	// into one optimizer step. Zero means 1.
	GradAccumulation int `yaml:"grad_accumulation" json:"grad_accumulation,omitempty"`
	// SpecAugment masks training features; see SpecAugmentConfig.
	SpecAugment SpecAugmentConfig `yaml:"spec_augment" json:"spec_augment"`
	// EvalEvery is the number of steps between evaluations on the
	// validation set. Zero means 1000; a negative value evaluates only at
	// the end of training.
	EvalEvery int64 `yaml:"eval_every" json:"eval_every,omitempty"`
	// EvalMaxUtterances caps the validation utterances used per evaluation
	// (the first ones, in the loader's fixed order). Zero means all.
	EvalMaxUtterances int `yaml:"eval_max_utterances" json:"eval_max_utterances,omitempty"`
	// EvalSamples is the number of sample predictions reported with each
	// evaluation. Nil means 3.
	EvalSamples *int `yaml:"eval_samples" json:"eval_samples,omitempty"`
	// Seed seeds the weight initialisation and dropout. Zero is a valid seed.
	// (The data order is seeded by datasets.batching.seed.)
	Seed int64 `yaml:"seed" json:"seed"`
	// Precision is the compute precision of the training steps:
	// "float32" (the default) or "bfloat16", which computes the matrix
	// products and the activations between them in bfloat16 while the
	// weights, the optimizer, every LayerNorm, the attention softmax, the
	// log-softmax and the CTC loss stay float32 (see
	// model.PrecisionBFloat16). It is for GPUs; on the pure-Go backend it is
	// slower than float32. Evaluation, checkpoints and inference are float32
	// either way.
	Precision model.Precision `yaml:"precision" json:"precision,omitempty"`
	// Backend is the compute backend: auto, go, xla:cuda or
	// xla:/absolute/path/to/plugin.so. Empty means $GOMLX_BACKEND, else auto;
	// the --backend flag overrides it.
	Backend string `yaml:"backend" json:"backend,omitempty"`
	// InitFrom fine-tunes from a model directory (or a run directory's best
	// checkpoint) instead of random weights. Its vocabulary and feature
	// configuration must equal this config's; its normalisation is used.
	InitFrom string `yaml:"init_from" json:"init_from,omitempty"`
}

// SpecAugmentConfig is train.spec_augment. Nil fields take
// features.DefaultSpecAugment's values (2 frequency masks of up to 27 bands,
// 10 time masks of up to 5% of the frames); set the counts to 0 to turn
// masking off.
type SpecAugmentConfig struct {
	FreqMasks         *int     `yaml:"freq_masks" json:"freq_masks,omitempty"`
	FreqWidth         *int     `yaml:"freq_width" json:"freq_width,omitempty"`
	TimeMasks         *int     `yaml:"time_masks" json:"time_masks,omitempty"`
	TimeWidthFraction *float64 `yaml:"time_width_fraction" json:"time_width_fraction,omitempty"`
}

// Resolve returns the masking settings, defaults filled in.
func (s SpecAugmentConfig) Resolve() features.SpecAugment {
	d := features.DefaultSpecAugment()
	if s.FreqMasks != nil {
		d.FreqMasks = *s.FreqMasks
	}
	if s.FreqWidth != nil {
		d.FreqWidth = *s.FreqWidth
	}
	if s.TimeMasks != nil {
		d.TimeMasks = *s.TimeMasks
	}
	if s.TimeWidthFraction != nil {
		d.TimeWidthFraction = *s.TimeWidthFraction
	}
	return d
}

// CheckpointConfig is the checkpoint: section.
type CheckpointConfig struct {
	// Dir is the run directory: checkpoints, the JSONL log and the job
	// status go there. Empty means runs/<config file name without
	// extension> beside the config file.
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Every is the number of steps between checkpoints. Zero means 1000.
	Every int64 `yaml:"every" json:"every,omitempty"`
	// Interval, when positive, also saves a checkpoint whenever this much
	// wall time has passed since the last one (e.g. "10m"). Zero means only
	// Every.
	Interval time.Duration `yaml:"interval" json:"interval,omitempty"`
	// Keep is the number of newest checkpoints kept. Zero means 3.
	Keep int `yaml:"keep" json:"keep,omitempty"`
	// KeepBest is the number of best checkpoints by validation WER kept
	// besides the newest. Nil means 1.
	KeepBest *int `yaml:"keep_best" json:"keep_best,omitempty"`
	// AverageLast is how many of the newest checkpoints `asr export`
	// averages by default. Zero or 1 exports the best checkpoint instead.
	AverageLast int `yaml:"average_last" json:"average_last,omitempty"`
}

// LogConfig is the log: section.
type LogConfig struct {
	// JSONL is the file the training events are appended to, one JSON
	// object per line. Empty means train.jsonl in the run directory; "off"
	// writes none.
	JSONL string `yaml:"jsonl" json:"jsonl,omitempty"`
	// Every is the number of steps between metrics events (loss, learning
	// rate, throughput). Zero means 10.
	Every int64 `yaml:"every" json:"every,omitempty"`
}

// DefaultConfig returns a configuration with every default filled in
// except the dataset source, which has none.
func DefaultConfig() Config {
	return Config{}.WithDefaults()
}

// WithDefaults returns c with every zero field that has a fixed default
// filled in. Model is resolved against its preset. The run directory is
// left empty when unset (LoadConfig fills it from the config's name).
func (c Config) WithDefaults() Config {
	c.Datasets = c.Datasets.WithDefaults()
	c.Features = c.Features.WithDefaults()
	if m, err := c.Model.Resolve(); err == nil {
		c.Model = m
	}
	t := &c.Train
	if t.Steps == 0 && t.Epochs == 0 {
		t.Steps = DefaultSteps
	}
	orF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	orF(&t.LearningRate, DefaultLearningRate)
	if t.MinLearningRate == nil {
		t.MinLearningRate = ptr(t.LearningRate * DefaultMinLRRatio)
	}
	if t.Schedule == "" {
		t.Schedule = ScheduleCosine
	}
	if t.WarmupSteps == nil && t.Steps > 0 {
		t.WarmupSteps = ptr(DefaultWarmup(t.Steps))
	}
	if t.WeightDecay == nil {
		t.WeightDecay = ptr(DefaultWeightDecay)
	}
	orF(&t.Beta1, DefaultBeta1)
	orF(&t.Beta2, DefaultBeta2)
	orF(&t.Epsilon, DefaultEpsilon)
	if t.ClipGradNorm == nil {
		t.ClipGradNorm = ptr(DefaultClipGradNorm)
	}
	if t.GradAccumulation == 0 {
		t.GradAccumulation = 1
	}
	if t.Precision == "" {
		t.Precision = model.PrecisionFloat32
	}
	sa := t.SpecAugment.Resolve()
	t.SpecAugment = SpecAugmentConfig{FreqMasks: &sa.FreqMasks, FreqWidth: &sa.FreqWidth, TimeMasks: &sa.TimeMasks, TimeWidthFraction: &sa.TimeWidthFraction}
	if t.EvalEvery == 0 {
		t.EvalEvery = DefaultEvalEvery
	}
	if t.EvalSamples == nil {
		t.EvalSamples = ptr(DefaultEvalSamples)
	}
	k := &c.Checkpoint
	if k.Every == 0 {
		k.Every = DefaultCheckpointEvery
	}
	if k.Keep == 0 {
		k.Keep = DefaultKeep
	}
	if k.KeepBest == nil {
		k.KeepBest = ptr(DefaultKeepBest)
	}
	if c.Log.Every == 0 {
		c.Log.Every = DefaultLogEvery
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// DefaultWarmup is the warm-up used when train.warmup_steps is unset for a
// run of total steps: DefaultWarmupSteps (1000), or a tenth of the run when
// that is less.
func DefaultWarmup(total int64) int64 { return min(DefaultWarmupSteps, total/10) }

// Validate reports every problem with c at once (joined with errors.Join),
// each naming its key. Paths are only checked for presence; whether they
// exist is checked when training starts.
func (c Config) Validate() error {
	var errs []error
	if err := c.Datasets.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Features.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Model.Validate(); err != nil {
		errs = append(errs, err)
	}
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m, err := c.Model.Resolve(); err == nil {
		if n := c.Features.WithDefaults().NumMels; m.InputDim != n {
			bad("model.input_dim %d differs from features.n_mels %d", m.InputDim, n)
		}
		if v := text.DefaultVocabulary().Size(); m.VocabSize != v {
			bad("model.vocab_size %d differs from the vocabulary's %d symbols (blank, space, a-z, apostrophe)", m.VocabSize, v)
		}
	}
	d := c.WithDefaults()
	errs = append(errs, d.Train.problems(c.Train)...)
	errs = append(errs, d.Checkpoint.problems()...)
	if d.Log.Every < 0 {
		bad("log.every %d must be >= 0", d.Log.Every)
	}
	return errors.Join(errs...)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// problems lists what is wrong with the train section t (defaults filled
// in); set is the section as written, to tell what the user set.
func (t Settings) problems(set Settings) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.Steps < 0 {
		bad("train.steps %d must be >= 0", t.Steps)
	}
	if !finite(t.Epochs) || t.Epochs < 0 {
		bad("train.epochs %v must be >= 0", t.Epochs)
	}
	if set.Steps > 0 && set.Epochs > 0 {
		bad("train.steps and train.epochs are both set; use one")
	}
	errs = append(errs, t.optimizerProblems()...)
	if t.GradAccumulation < 1 {
		bad("train.grad_accumulation %d must be >= 1", set.GradAccumulation)
	}
	if t.Precision.Validate() != nil {
		bad("train.precision %q: want %s or %s", string(t.Precision), model.PrecisionFloat32, model.PrecisionBFloat16)
	}
	if err := t.SpecAugment.Resolve().Validate(); err != nil {
		bad("train.%v", err)
	}
	if t.EvalMaxUtterances < 0 {
		bad("train.eval_max_utterances %d must be >= 0", t.EvalMaxUtterances)
	}
	if *t.EvalSamples < 0 {
		bad("train.eval_samples %d must be >= 0", *t.EvalSamples)
	}
	return errs
}

// optimizerProblems lists what is wrong with the learning-rate schedule
// and the AdamW settings.
func (t Settings) optimizerProblems() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(t.LearningRate > 0) || !finite(t.LearningRate) {
		bad("train.learning_rate %v must be positive", t.LearningRate)
	}
	if m := *t.MinLearningRate; !(m >= 0) || m > t.LearningRate {
		bad("train.min_learning_rate %v must be in [0, learning_rate %v]", m, t.LearningRate)
	}
	switch t.Schedule {
	case ScheduleCosine, ScheduleNoam, ScheduleConstant:
	default:
		bad("train.schedule %q: want cosine, noam or constant", t.Schedule)
	}
	if w := t.WarmupSteps; w != nil && *w < 0 {
		bad("train.warmup_steps %d must be >= 0", *w)
	} else if w != nil && t.Steps > 0 && *w >= t.Steps {
		bad("train.warmup_steps %d must be below train.steps %d", *w, t.Steps)
	}
	if w := *t.WeightDecay; !(w >= 0 && w < 1) {
		bad("train.weight_decay %v must be in [0, 1)", w)
	}
	for _, b := range []struct {
		key string
		v   float64
	}{{"beta1", t.Beta1}, {"beta2", t.Beta2}} {
		if !(b.v > 0 && b.v < 1) {
			bad("train.%s %v must be in (0, 1)", b.key, b.v)
		}
	}
	if !(t.Epsilon > 0 && t.Epsilon < 1) {
		bad("train.epsilon %v must be in (0, 1)", t.Epsilon)
	}
	if g := *t.ClipGradNorm; !(g >= 0) || !finite(g) {
		bad("train.clip_grad_norm %v must be >= 0 (0 turns clipping off)", g)
	}
	return errs
}

// problems lists what is wrong with the checkpoint section (defaults
// filled in).
func (k CheckpointConfig) problems() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if k.Every < 0 {
		bad("checkpoint.every %d must be >= 0", k.Every)
	}
	if k.Interval < 0 {
		bad("checkpoint.interval %v must be >= 0", k.Interval)
	}
	if k.Keep < 1 {
		bad("checkpoint.keep %d must be >= 1", k.Keep)
	}
	if *k.KeepBest < 0 {
		bad("checkpoint.keep_best %d must be >= 0", *k.KeepBest)
	}
	if k.AverageLast < 0 {
		bad("checkpoint.average_last %d must be >= 0", k.AverageLast)
	} else if k.AverageLast > k.Keep {
		bad("checkpoint.average_last %d exceeds checkpoint.keep %d: the checkpoints to average would be deleted", k.AverageLast, k.Keep)
	}
	return errs
}

// ResolvePaths returns c with every relative path joined to base (the
// folder of the config file). An empty checkpoint.dir becomes
// base/runs/<name>.
func (c Config) ResolvePaths(base, name string) Config {
	c.Datasets = c.Datasets.ResolvePaths(base)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.Train.InitFrom)
	if c.Checkpoint.Dir == "" && name != "" {
		c.Checkpoint.Dir = filepath.Join("runs", name)
	}
	abs(&c.Checkpoint.Dir)
	if c.Log.JSONL != "off" {
		abs(&c.Log.JSONL)
	}
	return c
}

// LoadConfig reads a training configuration strictly: unknown keys, wrong
// types and malformed YAML are errors with file:line:column, all reported at
// once. Relative paths are resolved against the file's folder, and the
// result is validated. Defaults are not filled in (see WithDefaults).
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("train: config: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("train: config: %w", err)
	}
	return ParseConfig(raw, path, abs, name)
}

// ParseConfig is LoadConfig for a config held in memory: file names it in
// error messages, base is the folder relative paths are resolved against,
// and name names the default run directory (base/runs/<name>).
func ParseConfig(raw []byte, file, base, name string) (Config, error) {
	var c Config
	if err := strictyaml.Decode(raw, file, &c); err != nil {
		return Config{}, err
	}
	c = c.ResolvePaths(base, name)
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}
