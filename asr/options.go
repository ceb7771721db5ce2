package asr

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/lm"
)

// Defaults of the long-audio windows (see [Options]).
const (
	// DefaultWindow is the longest stretch of audio the model sees at once.
	// It is within the utterance lengths the models are trained on (up to
	// 16.7 s), and bounds the memory of the attention layers.
	DefaultWindow = 16 * time.Second
	// DefaultContext is the audio on each side of a seam between windows
	// that the model sees but whose output comes from the neighbouring
	// window.
	DefaultContext = 2 * time.Second
)

// MaxBeam is the widest beam [Load] accepts (decode.MaxWidth).
const MaxBeam = decode.MaxWidth

// Options configures [Load] and [LoadDefault]. The zero value (and a nil
// *Options) loads the model as it is meant to run: on the backend that
// $GOMLX_BACKEND names, else the best one available; decoding as the model
// directory says (greedily when it says nothing); windows of
// [DefaultWindow] with [DefaultContext]; and no logging.
//
// Every field is independent of the others' order of assignment: Load
// reads them all, then applies them (see [DecodingOptions] for how its fields
// combine with a model directory's own settings).
type Options struct {
	// Backend chooses the compute backend by spec: "go" (the pure-Go
	// backend), "xla:cuda", "xla:/abs/path/plugin.so" or "auto" (see
	// docs/backends.md). Empty follows $GOMLX_BACKEND, else auto.
	Backend string
	// Decoding chooses the decoder: greedy or beam search, and the
	// language model fused into it.
	Decoding DecodingOptions
	// Window is the longest stretch of audio the model sees at once, and
	// Context the audio kept on each side of a seam between two windows
	// that does not fall in a pause. Zero values mean [DefaultWindow] and
	// [DefaultContext]; the window must be longer than twice the context.
	// Memory while transcribing grows with the window, never with the
	// length of the audio.
	Window, Context time.Duration
	// EndpointInterval, when positive, makes the recogniser run the model
	// this often (in audio time) on the audio since the last cut, besides
	// when a window is full, and cut at a pause followed by a second of
	// audio: the words before it become final, and a [Stream] reports an
	// [Stream.Endpoint], about a second after the pause rather than when
	// the window fills up (up to [DefaultWindow] later). [Stream.Partial]
	// then decodes the output of the last run instead of running the model
	// itself. Each run costs transcription time, in Transcribe too (it cuts
	// the same way, so that a stream and a whole-file transcription of the
	// same audio give the same words). Zero, the default, runs the model
	// only on full windows: right for batch transcription. Live captioning
	// wants 500 ms.
	EndpointInterval time.Duration
	// Logger receives what loading has to say: the backend chosen and why
	// (at the debug level) and a GPU that could not be used (a warning).
	// Nil discards it: the package never logs through slog's default
	// logger and never prints.
	Logger *slog.Logger
}

// DecodingOptions chooses how the model's output becomes text. Its zero value
// decodes as the model directory says (the beam width, language model,
// LM weight and word bonus that `asr export` stored in its manifest), or
// greedily when the directory says nothing.
type DecodingOptions struct {
	// Beam is the beam width of CTC prefix beam search: 0 keeps the model
	// directory's (greedy when it has none, 8 with a language model), 1
	// decodes greedily (a 1-wide beam with a language model), more keeps
	// that many prefixes per frame. At most [MaxBeam].
	Beam int
	// LM is an ARPA word n-gram language model file (plain or gzip) to fuse
	// into beam search, instead of the model directory's own: the
	// directory's beam width, LM weight and word bonus then do not apply
	// either.
	LM string
	// LanguageModel is a language model already in memory (from
	// lm.LoadARPA or an lm.Estimator), used as LM is. At most one of LM
	// and LanguageModel may be set.
	LanguageModel *lm.Model
	// LMWeight scales the language model's natural-log probabilities, and
	// WordBonus is added per word (with or without a language model). When
	// either is non-zero, both replace the model directory's values (which
	// retunes its own language model without replacing it); an LMWeight of
	// 0 then means decode.DefaultLMWeight (0.5). Tune both on held-out
	// data: `asr eval --lm-weight W --word-bonus B`.
	LMWeight, WordBonus float64
	// NoLM decodes without the model directory's language model and its
	// decoding settings: greedily, unless Beam says otherwise. It cannot
	// be combined with LM, LanguageModel or LMWeight.
	NoLM bool
}

// Validate reports every problem of the options at once (joined with
// errors.Join), or nil. [Load] calls it first; a program can call it to
// check settings from a command line or a config file before loading
// anything. What depends on the model (the window in whole model frames,
// a language model file that cannot be read) is checked by Load.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	d := o.Decoding
	switch {
	case d.Beam < 0:
		bad("beam width %d is negative", d.Beam)
	case d.Beam > MaxBeam:
		bad("beam width %d is above the maximum, %d", d.Beam, MaxBeam)
	}
	if d.LM != "" && d.LanguageModel != nil {
		bad("both a language model file (%s) and one in memory: give one", d.LM)
	}
	if d.NoLM && (d.LM != "" || d.LanguageModel != nil) {
		bad("NoLM with a language model: they contradict each other")
	}
	if d.NoLM && d.LMWeight != 0 {
		bad("a language-model weight (%g) with NoLM: there is no language model to weigh", d.LMWeight)
	}
	if d.LMWeight < 0 || math.IsNaN(d.LMWeight) || math.IsInf(d.LMWeight, 0) {
		bad("language-model weight %v must be finite and ≥ 0", d.LMWeight)
	}
	if math.IsNaN(d.WordBonus) || math.IsInf(d.WordBonus, 0) {
		bad("word bonus %v must be finite", d.WordBonus)
	}
	window, ctxt := o.windows()
	switch {
	case o.Window < 0 || o.Context < 0:
		bad("window %v and context %v must not be negative", o.Window, o.Context)
	case window <= 2*ctxt:
		bad("window %v must be longer than twice the context %v", window, ctxt)
	}
	if o.EndpointInterval < 0 {
		bad("endpoint interval %v is negative", o.EndpointInterval)
	}
	return errors.Join(errs...)
}

// logger returns Options.Logger, or a logger that discards everything.
func (o *Options) logger() *slog.Logger {
	if o == nil || o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// windows returns the window and context with defaults applied.
func (o *Options) windows() (window, ctxt time.Duration) {
	window, ctxt = DefaultWindow, DefaultContext
	if o != nil && o.Window != 0 {
		window = o.Window
	}
	if o != nil && o.Context != 0 {
		ctxt = o.Context
	}
	return window, ctxt
}

// decoderSpec is resolved DecodingOptions: what assemble builds the decoder of.
type decoderSpec struct {
	beam                int
	lmPath              string
	lm                  *lm.Model
	lmWeight, wordBonus float64
}

func (s decoderSpec) hasLM() bool { return s.lm != nil || s.lmPath != "" }
