package features

import (
	"errors"
	"fmt"
	"math"
)

// Config describes the log-mel features. Its zero value means the defaults
// (those of NeMo's Conformer preprocessor): 16 kHz, a 25 ms symmetric
// Hann window (400 samples) every 10 ms (160), n_fft 512, 80 mel bands on the
// Slaney scale with Slaney normalisation from 0 to 8000 Hz, pre-emphasis
// 0.97, natural log of the mel energy plus 2^-24, and dither 1e-5 for
// training. Each field says what its zero value means. The YAML and JSON keys
// are the snake_case names below; the training config embeds Config as
// "features:".
type Config struct {
	// SampleRate is the rate, in Hz, of the samples given to the Extractor;
	// 0 means 16000. Resample other rates first.
	SampleRate int `yaml:"sample_rate,omitempty" json:"sample_rate,omitempty"`
	// WinLength is the analysis window length in samples; 0 means 400
	// (25 ms at 16 kHz). At most NFFT.
	WinLength int `yaml:"win_length,omitempty" json:"win_length,omitempty"`
	// HopLength is the distance between frames in samples; 0 means 160
	// (10 ms at 16 kHz).
	HopLength int `yaml:"hop_length,omitempty" json:"hop_length,omitempty"`
	// NFFT is the FFT size; 0 means 512. The window is centred in it, zero
	// padded. Powers of two use the package's fastest FFT.
	NFFT int `yaml:"n_fft,omitempty" json:"n_fft,omitempty"`
	// NumMels is the number of mel bands; 0 means 80.
	NumMels int `yaml:"n_mels,omitempty" json:"n_mels,omitempty"`
	// FMin is the lowest filterbank frequency in Hz; 0 is the default.
	FMin float64 `yaml:"f_min,omitempty" json:"f_min,omitempty"`
	// FMax is the highest filterbank frequency in Hz; 0 means SampleRate/2.
	FMax float64 `yaml:"f_max,omitempty" json:"f_max,omitempty"`
	// MelScale is "slaney" (the default when empty; librosa's default,
	// linear below 1 kHz and logarithmic above) or "htk".
	MelScale string `yaml:"mel_scale,omitempty" json:"mel_scale,omitempty"`
	// MelNorm is "slaney" (the default when empty: each filter divided by
	// its width in Hz, so that it has constant energy) or "none" (peak 1).
	MelNorm string `yaml:"mel_norm,omitempty" json:"mel_norm,omitempty"`
	// Window is "hann" (the default when empty) or "hamming", both symmetric
	// (like torch.hann_window(win_length, periodic=False) in NeMo).
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
	// Preemphasis is the coefficient a of y[i] = x[i] - a·x[i-1]; nil means
	// 0.97 and 0 turns pre-emphasis off.
	Preemphasis *float64 `yaml:"preemphasis,omitempty" json:"preemphasis,omitempty"`
	// LogGuard is added to the mel energies before the natural log; 0 means
	// 2^-24, so digital silence gives log(2^-24) ≈ -16.64.
	LogGuard float64 `yaml:"log_guard,omitempty" json:"log_guard,omitempty"`
	// Dither is the standard deviation of the Gaussian noise that
	// [Extractor.ComputeDithered] adds to the samples (for training); nil
	// means 1e-5 and 0 turns it off. [Extractor.Compute] never dithers.
	Dither *float64 `yaml:"dither,omitempty" json:"dither,omitempty"`
}

// Default values; see [Config].
const (
	DefaultSampleRate  = 16000
	DefaultWinLength   = 400
	DefaultHopLength   = 160
	DefaultNFFT        = 512
	DefaultNumMels     = 80
	DefaultPreemphasis = 0.97
	DefaultDither      = 1e-5
)

// DefaultLogGuard is the default [Config.LogGuard], 2^-24.
var DefaultLogGuard = math.Ldexp(1, -24)

// DefaultConfig returns the defaults with every field filled in.
func DefaultConfig() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with every zero field replaced by its default, the
// form to store in a model manifest so that it does not depend on defaults.
func (c Config) WithDefaults() Config {
	if c.SampleRate == 0 {
		c.SampleRate = DefaultSampleRate
	}
	if c.WinLength == 0 {
		c.WinLength = DefaultWinLength
	}
	if c.HopLength == 0 {
		c.HopLength = DefaultHopLength
	}
	if c.NFFT == 0 {
		c.NFFT = DefaultNFFT
	}
	if c.NumMels == 0 {
		c.NumMels = DefaultNumMels
	}
	if c.FMax == 0 {
		c.FMax = float64(c.SampleRate) / 2
	}
	if c.MelScale == "" {
		c.MelScale = "slaney"
	}
	if c.MelNorm == "" {
		c.MelNorm = "slaney"
	}
	if c.Window == "" {
		c.Window = "hann"
	}
	if c.Preemphasis == nil {
		c.Preemphasis = ptr(DefaultPreemphasis)
	} else {
		c.Preemphasis = ptr(*c.Preemphasis) // no aliasing with the caller's config
	}
	if c.LogGuard == 0 {
		c.LogGuard = DefaultLogGuard
	}
	if c.Dither == nil {
		c.Dither = ptr(DefaultDither)
	} else {
		c.Dither = ptr(*c.Dither)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// Validate reports every problem with the config at once (errors.Join), after
// filling in the defaults. Keys are named as in YAML.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.SampleRate < MinSampleRate || c.SampleRate > MaxSampleRate {
		add("features.sample_rate: %d Hz is outside %d to %d", c.SampleRate, MinSampleRate, MaxSampleRate)
	}
	if c.NFFT < 4 || c.NFFT > 1<<16 {
		add("features.n_fft: %d is outside 4 to 65536", c.NFFT)
	}
	if c.WinLength < 2 || c.WinLength > c.NFFT {
		add("features.win_length: %d must be from 2 to n_fft (%d)", c.WinLength, c.NFFT)
	}
	if c.HopLength < 1 {
		add("features.hop_length: %d must be positive", c.HopLength)
	}
	if c.NumMels < 1 || c.NumMels > 1024 {
		add("features.n_mels: %d is outside 1 to 1024", c.NumMels)
	}
	nyquist := float64(c.SampleRate) / 2
	if !(c.FMin >= 0) || math.IsInf(c.FMin, 0) {
		add("features.f_min: %g Hz must be non-negative", c.FMin)
	}
	if !(c.FMax > c.FMin) || c.FMax > nyquist {
		add("features.f_max: %g Hz must be above f_min (%g Hz) and at most sample_rate/2 (%g Hz)", c.FMax, c.FMin, nyquist)
	}
	if c.MelScale != "slaney" && c.MelScale != "htk" {
		add("features.mel_scale: %q is not slaney or htk", c.MelScale)
	}
	if c.MelNorm != "slaney" && c.MelNorm != "none" {
		add("features.mel_norm: %q is not slaney or none", c.MelNorm)
	}
	if c.Window != "hann" && c.Window != "hamming" {
		add("features.window: %q is not hann or hamming", c.Window)
	}
	if p := *c.Preemphasis; !(p >= 0 && p < 1) {
		add("features.preemphasis: %g must be in [0, 1)", p)
	}
	if !(c.LogGuard > 0) || math.IsInf(c.LogGuard, 0) {
		add("features.log_guard: %g must be positive", c.LogGuard)
	}
	if d := *c.Dither; !(d >= 0 && d < 1) {
		add("features.dither: %g must be in [0, 1)", d)
	}
	if len(errs) == 0 {
		// Every band must cover at least one FFT bin, or it is constant.
		fb := melFilterbank(c)
		var empty []int
		for b, f := range fb.weights {
			if len(f) == 0 {
				empty = append(empty, b)
			}
		}
		if len(empty) > 0 {
			add("features.n_mels: %d bands are too many for n_fft %d between %g and %g Hz: bands %v have no FFT bin (use fewer bands or a larger n_fft)",
				c.NumMels, c.NFFT, c.FMin, c.FMax, empty)
		}
	}
	return errors.Join(errs...)
}

// FrameRate returns the number of feature frames per second of audio.
func (c Config) FrameRate() float64 {
	c = c.WithDefaults()
	return float64(c.SampleRate) / float64(c.HopLength)
}
