package data

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"runtime"
	"slices"
)

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxDuration is the longest utterance accepted, in seconds
	// (NeMo's Conformer-CTC recipes use the same limit).
	DefaultMaxDuration = 16.7
	// DefaultValFraction and DefaultTestFraction are the shares of a corpus
	// that the hash split puts in the validation and test sets.
	DefaultValFraction  = 0.01
	DefaultTestFraction = 0.04
	// DefaultBucketWidth is the spacing, in feature frames, of the default
	// padding buckets (160 frames = 1.6 s at a 10 ms hop).
	DefaultBucketWidth = 160
	// DefaultMaxFrames is the default batch budget: padded frames per batch.
	DefaultMaxFrames = 20000
	// DefaultPrefetch is the default number of batches prepared ahead.
	DefaultPrefetch = 4
	// DefaultSubsampling is the default time subsampling of the model, used
	// by the "too short for CTC" check.
	DefaultSubsampling = 4
)

// Config is the dataset part of a training configuration (the YAML section
// "datasets:"). The zero value is valid apart from the source: exactly one of
// LJSpeech.Path or Manifests.Train must be set. Every zero field means the
// default documented on it and in docs/config.md.
type Config struct {
	// LJSpeech reads an LJSpeech-1.1 folder (metadata.csv and wavs/).
	LJSpeech LJSpeechConfig `yaml:"ljspeech,omitempty" json:"ljspeech,omitempty"`
	// Manifests reads NeMo-style JSONL manifests.
	Manifests ManifestConfig `yaml:"manifests,omitempty" json:"manifests,omitempty"`
	// Split decides which utterances go to train, val and test when the
	// source does not say.
	Split SplitConfig `yaml:"split,omitempty" json:"split,omitempty"`
	// MaxDuration is the longest utterance accepted, in seconds. Zero means
	// DefaultMaxDuration (16.7 s). Longer utterances are invalid (see
	// SkipInvalid).
	MaxDuration float64 `yaml:"max_duration,omitempty" json:"max_duration,omitempty"`
	// SkipInvalid, when true, leaves invalid utterances out of training
	// (each is still listed in the report, with its reason). When false, the
	// default, any invalid utterance stops preparation with the report as the
	// error.
	SkipInvalid bool `yaml:"skip_invalid,omitempty" json:"skip_invalid,omitempty"`
	// CacheDir holds the feature cache, the split and the normalisation
	// statistics. Empty means the user cache directory
	// ($XDG_CACHE_HOME/asrkit/data, usually ~/.cache/asrkit/data).
	CacheDir string `yaml:"cache_dir,omitempty" json:"cache_dir,omitempty"`
	// Workers is the number of parallel workers for checking audio and
	// building the cache. Zero means one per CPU core.
	Workers int `yaml:"workers,omitempty" json:"workers,omitempty"`
	// Batching shapes the batches given to the trainer.
	Batching BatchingConfig `yaml:"batching,omitempty" json:"batching,omitempty"`
	// Weights are per-corpus sampling weights of the training set, keyed by
	// an utterance's corpus name (see [Utterance.Corpus]): in each epoch an
	// utterance of a corpus with weight w is used floor(w) times, plus once
	// more with probability w - floor(w). A corpus not named has weight 1;
	// weight 0 leaves it out of training. Use it to keep a large corpus from
	// dominating a mix. Validation and test sets are never weighted.
	Weights map[string]float64 `yaml:"weights,omitempty" json:"weights,omitempty"`
	// Augment adds perturbed copies of the training audio to the feature
	// cache (speed, noise, reverberation); each epoch uses one copy of every
	// training utterance.
	Augment AugmentConfig `yaml:"augment,omitempty" json:"augment,omitempty"`
}

// AugmentConfig perturbs training audio before its features are computed.
// Each training utterance gets one cached copy per speed factor; each copy
// is independently given noise and reverberation with the probabilities
// below, drawn from a seed of the utterance id and the copy, so the cache is
// deterministic. Every epoch picks one copy of each utterance at random
// (seeded by datasets.batching.seed and the epoch). The zero value means no
// augmentation (one clean copy). Validation and test audio is never
// augmented.
type AugmentConfig struct {
	// Speeds are speed-perturbation factors (Kaldi's 0.9, 1.0, 1.1): the
	// audio is resampled so that it plays this many times faster, which
	// changes tempo and pitch together. Empty means [1]. Each must be in
	// [0.5, 2].
	Speeds []float64 `yaml:"speeds,omitempty" json:"speeds,omitempty"`
	// Noise is the probability that a copy gets additive noise (white, pink
	// or brown, drawn per copy) at a signal-to-noise ratio drawn from
	// NoiseSNR.
	Noise float64 `yaml:"noise,omitempty" json:"noise,omitempty"`
	// NoiseSNR is the range of signal-to-noise ratios in dB, [low, high].
	// Empty means [10, 30].
	NoiseSNR []float64 `yaml:"noise_snr,omitempty" json:"noise_snr,omitempty"`
	// Reverb is the probability that a copy is convolved with a synthetic
	// room impulse response (exponentially decaying noise) whose
	// reverberation time RT60 is drawn from ReverbRT60.
	Reverb float64 `yaml:"reverb,omitempty" json:"reverb,omitempty"`
	// ReverbRT60 is the range of reverberation times in seconds, [low,
	// high]. Empty means [0.2, 0.7].
	ReverbRT60 []float64 `yaml:"reverb_rt60,omitempty" json:"reverb_rt60,omitempty"`
	// GainDB is a range of level changes in dB, [low, high]: each training
	// row of each batch is made louder or quieter by a gain drawn from it
	// (seeded by datasets.batching.seed, the epoch, the batch and the row,
	// so a resumed run draws the same), so that the model does not depend
	// on the recording level. Applied to the cached log-mel features (a
	// gain is an offset of the log energies), not to the cache. Empty
	// means none.
	GainDB []float64 `yaml:"gain_db,omitempty" json:"gain_db,omitempty"`
}

// Defaults of AugmentConfig's ranges.
var (
	DefaultNoiseSNR   = []float64{10, 30}
	DefaultReverbRT60 = []float64{0.2, 0.7}
)

// Enabled reports whether a makes any perturbed copy.
func (a AugmentConfig) Enabled() bool {
	if a.Noise > 0 || a.Reverb > 0 {
		return true
	}
	for _, s := range a.Speeds {
		if s != 1 {
			return true
		}
	}
	return false
}

// withDefaults fills the empty ranges and speeds.
func (a AugmentConfig) withDefaults() AugmentConfig {
	if len(a.Speeds) == 0 {
		a.Speeds = []float64{1}
	}
	if len(a.NoiseSNR) == 0 {
		a.NoiseSNR = slices.Clone(DefaultNoiseSNR)
	}
	if len(a.ReverbRT60) == 0 {
		a.ReverbRT60 = slices.Clone(DefaultReverbRT60)
	}
	return a
}

func (a AugmentConfig) validate(bad func(string, ...any)) {
	for i, s := range a.Speeds {
		if math.IsNaN(s) || s < 0.5 || s > 2 {
			bad("augment.speeds[%d] = %v: must be a factor in [0.5, 2]", i, s)
		}
	}
	prob := func(name string, p float64) {
		if math.IsNaN(p) || p < 0 || p > 1 {
			bad("augment.%s = %v: must be a probability in [0, 1]", name, p)
		}
	}
	prob("noise", a.Noise)
	prob("reverb", a.Reverb)
	rng := func(name string, r []float64, lo, hi float64) {
		if len(r) == 0 {
			return
		}
		if len(r) != 2 || math.IsNaN(r[0]) || math.IsNaN(r[1]) || r[0] > r[1] || r[0] < lo || r[1] > hi {
			bad("augment.%s = %v: must be [low, high] with %v <= low <= high <= %v", name, r, lo, hi)
		}
	}
	rng("noise_snr", a.NoiseSNR, -10, 100)
	rng("reverb_rt60", a.ReverbRT60, 0.05, 3)
	rng("gain_db", a.GainDB, -40, 40)
}

// LJSpeechConfig names an LJSpeech-format corpus.
type LJSpeechConfig struct {
	// Path is the corpus folder, holding metadata.csv and wavs/<id>.wav.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
}

// ManifestConfig names JSONL manifests, one JSON object per line:
// {"audio_filepath" or "audio": path, "text": transcript, "duration": seconds}.
// Relative audio paths are relative to the manifest's folder.
type ManifestConfig struct {
	// Train is the training manifest.
	Train string `yaml:"train,omitempty" json:"train,omitempty"`
	// Val is the validation manifest. When Val and Test are both empty, the
	// train manifest is split by [SplitConfig] like an LJSpeech corpus.
	Val string `yaml:"val,omitempty" json:"val,omitempty"`
	// Test is the test manifest.
	Test string `yaml:"test,omitempty" json:"test,omitempty"`
}

// SplitConfig is the train/val/test split of a corpus that has no split of
// its own. By default a seeded hash of each id picks its set, so the split
// does not depend on file order or on which other utterances exist; split
// lists override it.
type SplitConfig struct {
	// Seed changes the hash split. Zero is a valid seed (the default).
	Seed uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Val is the fraction of the corpus in the validation set. Nil means
	// DefaultValFraction (0.01); 0 means none. Not used when Lists or the
	// val/test manifests define the split.
	Val *float64 `yaml:"val,omitempty" json:"val,omitempty"`
	// Test is the fraction in the test set. Nil means DefaultTestFraction
	// (0.04); 0 means none.
	Test *float64 `yaml:"test,omitempty" json:"test,omitempty"`
	// Lists, when any is set, replace the hash split with files of ids.
	Lists SplitLists `yaml:"lists,omitempty" json:"lists,omitempty"`
}

// SplitLists are files of utterance ids, one per line; anything after the
// first '|' or tab on a line is ignored (so LJSpeech-style "id|text" lists
// work), as are blank lines and lines starting with '#'. When Train is empty,
// every utterance not listed in Val or Test is training data; when Train is
// set, utterances in no list are left out and counted in the report.
type SplitLists struct {
	// Train lists the training ids; optional (see above).
	Train string `yaml:"train,omitempty" json:"train,omitempty"`
	// Val lists the validation ids.
	Val string `yaml:"val,omitempty" json:"val,omitempty"`
	// Test lists the test ids.
	Test string `yaml:"test,omitempty" json:"test,omitempty"`
}

// BatchingConfig shapes batches. Every batch pads its utterances to one of a
// few fixed frame counts (Buckets), so the trainer compiles one graph per
// bucket rather than one per utterance length.
type BatchingConfig struct {
	// Buckets are the padded frame counts, increasing. Empty means multiples
	// of DefaultBucketWidth (160 frames) up to the frame count of
	// MaxDuration, rounded up to a multiple of 16.
	Buckets []int `yaml:"buckets,omitempty" json:"buckets,omitempty"`
	// MaxFrames is the batch budget in padded frames: a bucket of T frames
	// gets batches of MaxFrames/T utterances (at least one). Zero means
	// DefaultMaxFrames (20,000: 200 s of audio).
	MaxFrames int `yaml:"max_frames,omitempty" json:"max_frames,omitempty"`
	// MaxBatchSize caps the utterances per batch. Zero means no cap.
	MaxBatchSize int `yaml:"max_batch_size,omitempty" json:"max_batch_size,omitempty"`
	// Seed seeds the shuffling of training batches. Zero is a valid seed.
	Seed uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Prefetch is the number of batches prepared in the background ahead of
	// the trainer. Zero means DefaultPrefetch (4).
	Prefetch int `yaml:"prefetch,omitempty" json:"prefetch,omitempty"`
}

// DefaultConfig returns the zero Config with every default filled in, except
// the source paths and the cache directory, which have no useful default.
func DefaultConfig() Config {
	var c Config
	return c.WithDefaults()
}

// WithDefaults returns a copy of c in which every zero field holds its
// default. CacheDir is left as it is (see [Config.CacheRoot]).
func (c Config) WithDefaults() Config {
	if c.MaxDuration == 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.Split.Val == nil {
		v := DefaultValFraction
		c.Split.Val = &v
	}
	if c.Split.Test == nil {
		v := DefaultTestFraction
		c.Split.Test = &v
	}
	if c.Batching.MaxFrames == 0 {
		c.Batching.MaxFrames = DefaultMaxFrames
	}
	if c.Batching.Prefetch == 0 {
		c.Batching.Prefetch = DefaultPrefetch
	}
	c.Augment = c.Augment.withDefaults()
	return c
}

// Validate reports every problem in c at once (joined with errors.Join).
// Paths are only checked for presence here; whether they exist is reported
// when the dataset is loaded.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("datasets."+format, args...)) }
	hasLJ := c.LJSpeech.Path != ""
	hasMF := c.Manifests.Train != "" || c.Manifests.Val != "" || c.Manifests.Test != ""
	switch {
	case hasLJ && hasMF:
		bad("ljspeech.path and datasets.manifests are both set; use one source")
	case !hasLJ && !hasMF:
		bad("ljspeech.path or datasets.manifests.train must be set")
	case hasMF && c.Manifests.Train == "":
		bad("manifests.train must be set when datasets.manifests.val or .test is")
	}
	explicit := c.Manifests.Val != "" || c.Manifests.Test != ""
	lists := c.Split.Lists.Train != "" || c.Split.Lists.Val != "" || c.Split.Lists.Test != ""
	if explicit && lists {
		bad("split.lists is set but datasets.manifests.val/test already define the split; remove one")
	}
	if c.Split.Lists.Train != "" && c.Split.Lists.Val == "" && c.Split.Lists.Test == "" {
		bad("split.lists.train is set without datasets.split.lists.val or .test")
	}
	frac := func(name string, p *float64) float64 {
		if p == nil {
			return 0
		}
		if v := *p; math.IsNaN(v) || v < 0 || v >= 1 {
			bad("split.%s = %v: must be a fraction in [0, 1)", name, v)
			return 0
		}
		return *p
	}
	if v, t := frac("val", c.Split.Val), frac("test", c.Split.Test); v+t >= 1 {
		bad("split.val + datasets.split.test = %v: must leave some training data (< 1)", v+t)
	}
	if math.IsNaN(c.MaxDuration) || math.IsInf(c.MaxDuration, 0) || c.MaxDuration < 0 {
		bad("max_duration = %v: must be a positive number of seconds", c.MaxDuration)
	}
	if c.Workers < 0 {
		bad("workers = %d: must be >= 0 (0 means one per core)", c.Workers)
	}
	b := c.Batching
	if b.MaxFrames < 0 {
		bad("batching.max_frames = %d: must be >= 0", b.MaxFrames)
	}
	if b.MaxBatchSize < 0 {
		bad("batching.max_batch_size = %d: must be >= 0", b.MaxBatchSize)
	}
	if b.Prefetch < 0 {
		bad("batching.prefetch = %d: must be >= 0", b.Prefetch)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Weights)) {
		if w := c.Weights[name]; math.IsNaN(w) || math.IsInf(w, 0) || w < 0 || w > 100 {
			bad("weights.%s = %v: must be a weight in [0, 100]", name, w)
		}
	}
	c.Augment.validate(bad)
	for i, n := range b.Buckets {
		if n <= 0 {
			bad("batching.buckets[%d] = %d: must be a positive frame count", i, n)
		} else if i > 0 && n <= b.Buckets[i-1] {
			bad("batching.buckets must be strictly increasing (buckets[%d] = %d after %d)", i, n, b.Buckets[i-1])
		}
	}
	return errors.Join(errs...)
}

// ResolvePaths returns a copy of c in which every relative path is joined to
// base (the directory of the config file that named it). Absolute and empty
// paths are unchanged.
func (c Config) ResolvePaths(base string) Config {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.LJSpeech.Path)
	abs(&c.Manifests.Train)
	abs(&c.Manifests.Val)
	abs(&c.Manifests.Test)
	abs(&c.Split.Lists.Train)
	abs(&c.Split.Lists.Val)
	abs(&c.Split.Lists.Test)
	abs(&c.CacheDir)
	c.Batching.Buckets = slices.Clone(c.Batching.Buckets)
	c.Weights = maps.Clone(c.Weights)
	return c
}
