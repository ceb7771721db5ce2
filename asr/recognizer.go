package asr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
)

// Errors of the transcription API. They are wrapped: test with errors.Is.
var (
	// ErrClosed: the Recognizer has been closed.
	ErrClosed = errors.New("asr: recognizer closed")
	// ErrStreamFinished: a Stream was used after Finish.
	ErrStreamFinished = errors.New("asr: stream already finished")
	// ErrSampleRate: a sample rate is outside what the resampler accepts
	// (features.MinSampleRate to features.MaxSampleRate), or a stream's
	// rate changed between chunks.
	ErrSampleRate = errors.New("asr: invalid sample rate")
	// ErrAudio: samples that are not audio (NaN or infinite values).
	ErrAudio = errors.New("asr: invalid audio")
)

// Defaults of the long-audio windows (see [WithWindow]).
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

// Recognizer transcribes speech with one acoustic model. Create it with
// [Load] or [LoadDefault] and release it with [Recognizer.Close].
//
// A Recognizer is safe for concurrent use by any number of goroutines: the
// weights are shared and read-only, and each call (and each [Stream]) keeps
// its own state. Model graphs are compiled once per padded input length
// and reused by every call.
type Recognizer struct {
	am      acousticModel
	be      backends.Backend // nil for a test acoustic model
	ext     *features.Extractor
	norm    features.Normalization
	vocab   *text.Vocabulary
	decoder decode.Decoder
	greedy  decode.Greedy // for partial results
	info    ModelInfo

	rate       int // the model's sample rate
	frameDur   time.Duration
	window     int // input frames per window (a multiple of 4)
	ctxFrames  int // input frames of context on each side of a seam (a multiple of 4)
	pause      int // output frames of blank (or space) that make a pause
	maxPending int // output frames of final log-probs held before decoding

	mu     sync.RWMutex // held for reading by every call, for writing by Close
	closed bool
}

// ModelInfo describes the model a Recognizer runs.
type ModelInfo struct {
	// Dir is the model or checkpoint directory it was loaded from ("" for
	// the bundled model).
	Dir string
	// Manifest is the model's manifest: configurations, vocabulary,
	// normalisation, step, metrics.
	Manifest *checkpoint.Manifest
	// Backend is the compute backend: "go", or "xla:" and the PJRT plugin's
	// path.
	Backend string
	// Decoder is "greedy" or "beam(width=8)" with ", lm" when a language
	// model is fused.
	Decoder string
}

// Option configures [Load] and [LoadDefault].
type Option func(*options)

type options struct {
	backend      string
	beam         int
	lmPath       string
	lm           *lm.Model
	lmWeight     float64
	wordBonus    float64
	weights      *[2]float64 // WithLMWeights: LM weight and word bonus, applied last
	noLM         bool
	window, ctxt time.Duration
}

// WithBackend chooses the compute backend by spec: "go" (the pure-Go
// backend), "xla:cuda", "xla:/abs/path/plugin.so" or "auto" (see
// docs/backends.md). Empty, the default, follows $GOMLX_BACKEND, else auto.
func WithBackend(spec string) Option { return func(o *options) { o.backend = spec } }

// WithBeam decodes with CTC prefix beam search keeping width prefixes.
// 0 (the default) decodes as the model directory asks (see [checkpoint.Decoding]),
// greedily when it does not say; 1 decodes greedily, unless a language
// model is used, which needs beam search (width 8 unless set here).
func WithBeam(width int) Option { return func(o *options) { o.beam = width } }

// WithLM fuses an ARPA word n-gram language model, read from path (plain
// or gzip-compressed), into beam search, instead of the model directory's
// own (see [checkpoint.Decoding]). weight scales its natural-log probabilities (0
// means decode.DefaultLMWeight, 0.5) and wordBonus is added per word (0
// means none); tune both on held-out data.
func WithLM(path string, weight, wordBonus float64) Option {
	return func(o *options) { o.lmPath, o.lm, o.lmWeight, o.wordBonus = path, nil, weight, wordBonus }
}

// WithLanguageModel is [WithLM] for a model already in memory (from
// lm.LoadARPA or an lm.Estimator).
func WithLanguageModel(m *lm.Model, weight, wordBonus float64) Option {
	return func(o *options) { o.lm, o.lmPath, o.lmWeight, o.wordBonus = m, "", weight, wordBonus }
}

// WithLMWeights sets the language-model weight (0 means
// decode.DefaultLMWeight) and the word bonus of whatever language model is
// used, in particular the one the model directory carries (see [checkpoint.Decoding]):
// it retunes a model's own LM without replacing it. It applies after
// [WithLM] whatever the order of the options; without any language model,
// weight must be 0 and wordBonus applies to beam search alone.
func WithLMWeights(weight, wordBonus float64) Option {
	return func(o *options) { o.weights = &[2]float64{weight, wordBonus} }
}

// WithoutLM decodes without the language model that the model directory
// carries (see [checkpoint.Decoding]), and without its beam width: greedily, unless
// [WithBeam] says otherwise. It does not undo [WithLM].
func WithoutLM() Option { return func(o *options) { o.noLM = true } }

// WithWindow sets how long audio is cut: the model sees at most window of
// audio at once, and a seam between two windows that does not fall in a
// pause has context of audio on both of its sides. Zero values keep
// [DefaultWindow] and [DefaultContext]. The window must be longer than
// twice the context.
func WithWindow(window, context time.Duration) Option {
	return func(o *options) { o.window, o.ctxt = window, context }
}

// Load opens a model directory (from `asr export`), a checkpoint directory,
// or a run directory (its best checkpoint; see [checkpoint.OpenModel]) and prepares
// it for transcription on the chosen backend. The model graph is built
// and run once on a short input, so a model that does not fit its
// manifest is reported here rather than by the first transcription.
func Load(dir string, opts ...Option) (*Recognizer, error) {
	ckpt, err := checkpoint.OpenModel(dir, nil)
	if err != nil {
		return nil, err
	}
	loader, err := ckpt.NewLoader(false)
	if err != nil {
		return nil, err
	}
	return newRecognizer(ckpt.Dir, ckpt, loader, opts)
}

// newRecognizer builds a Recognizer of a checkpoint or model directory
// and its weights; dir names it in messages ("" for the bundled model).
func newRecognizer(dir string, c *checkpoint.Checkpoint, loader *checkpoint.Loader, opts []Option) (*Recognizer, error) {
	m := c.Manifest
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.useModelDecoding(c); err != nil {
		return nil, fmt.Errorf("asr: %s: %w", describeDir(dir), err)
	}
	if err := o.applyWeights(); err != nil {
		return nil, err
	}
	spec, _ := backend.Resolve(o.backend, "")
	be, binfo, err := backend.New(context.Background(), spec)
	if err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	am, err := newGraphModel(be, m.Model, m.Features.WithDefaults().NumMels, loader)
	if err != nil {
		be.Finalize()
		return nil, err
	}
	r, err := assemble(dir, m, am, o)
	if err != nil {
		am.close()
		be.Finalize()
		return nil, err
	}
	r.be = be
	am.maxFrames = r.window
	r.info.Backend = binfo.Name
	if binfo.Name == "xla" {
		r.info.Backend += ":" + binfo.PluginPath
	}
	// Build the smallest graph now: it loads every weight into the model
	// and checks that the checkpoint holds exactly what the model needs.
	if err := am.warmUp(); err != nil {
		r.Close()
		return nil, fmt.Errorf("asr: %s: %w", describeDir(dir), err)
	}
	return r, nil
}

// useModelDecoding applies the model directory's decoding settings (and
// reads its language model) unless the options choose otherwise.
func (o *options) useModelDecoding(c *checkpoint.Checkpoint) error {
	d := c.Manifest.Decoding
	if d == nil || o.noLM || o.lm != nil || o.lmPath != "" {
		return nil
	}
	if o.beam == 0 {
		o.beam = d.Beam
	}
	if d.LM == "" {
		return nil
	}
	data, err := c.ReadFile(d.LM)
	if err != nil {
		return err
	}
	lmodel, err := lm.ReadARPA(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: language model %s: %w", ErrCorruptCheckpoint, d.LM, err)
	}
	o.lm, o.lmWeight, o.wordBonus = lmodel, d.LMWeight, d.WordBonus
	return nil
}

// applyWeights applies WithLMWeights.
func (o *options) applyWeights() error {
	if o.weights == nil {
		return nil
	}
	if o.lm == nil && o.lmPath == "" && o.weights[0] != 0 {
		return fmt.Errorf("asr: a language-model weight (%g) without a language model", o.weights[0])
	}
	o.lmWeight, o.wordBonus = o.weights[0], o.weights[1]
	return nil
}

func describeDir(dir string) string {
	if dir == "" {
		return "bundled model"
	}
	return dir
}

// assemble makes a Recognizer around an acoustic model: features,
// normalisation, decoder and window settings.
func assemble(dir string, m *checkpoint.Manifest, am acousticModel, o options) (*Recognizer, error) {
	fcfg := m.Features.WithDefaults()
	ext, err := features.NewExtractor(fcfg)
	if err != nil {
		return nil, fmt.Errorf("asr: model features: %w", err)
	}
	r := &Recognizer{
		am:    am,
		ext:   ext,
		norm:  m.Normalization,
		vocab: m.Vocabulary,
		rate:  fcfg.SampleRate,
		info:  ModelInfo{Dir: dir, Manifest: m},
	}
	hop := time.Duration(fcfg.HopLength) * time.Second / time.Duration(fcfg.SampleRate)
	r.frameDur = hop * model.SubsamplingFactor
	r.greedy = decode.Greedy{Vocab: r.vocab, FrameDuration: r.frameDur}

	window, ctxt := o.window, o.ctxt
	if window == 0 {
		window = DefaultWindow
	}
	if ctxt == 0 {
		ctxt = DefaultContext
	}
	toFrames := func(d time.Duration) int { // whole output frames, in input frames
		return int(d/r.frameDur) * model.SubsamplingFactor
	}
	r.window, r.ctxFrames = toFrames(window), toFrames(ctxt)
	if window < 0 || ctxt < 0 || r.window-2*r.ctxFrames < model.SubsamplingFactor {
		return nil, fmt.Errorf("asr: window %v must be longer than twice the context %v (by at least %v)", window, ctxt, r.frameDur)
	}
	r.pause = max(1, int(pauseLength/r.frameDur))
	r.maxPending = max(r.window/model.SubsamplingFactor, int(maxPendingAudio/r.frameDur))

	if (o.beam == 0 || o.beam == 1) && o.lm == nil && o.lmPath == "" {
		r.decoder = r.greedy
		r.info.Decoder = "greedy"
		return r, nil
	}
	// Beam search: its settings are checked here, once, not by every
	// Decode, and before a language model is read.
	b := decode.Beam{Vocab: r.vocab, FrameDuration: r.frameDur, Width: o.beam, LMWeight: o.lmWeight, WordBonus: o.wordBonus}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	r.info.Decoder = fmt.Sprintf("beam(width=%d)", o.beam)
	if o.lm != nil || o.lmPath != "" {
		if b.LM = o.lm; b.LM == nil {
			if b.LM, err = lm.LoadARPA(o.lmPath); err != nil {
				return nil, fmt.Errorf("asr: language model: %w", err)
			}
		}
		r.info.Decoder = fmt.Sprintf("beam(width=%d), lm order %d weight %g", widthOr(b.Width), b.LM.Order(), weightOr(b.LMWeight))
	}
	r.decoder = b
	return r, nil
}

func widthOr(w int) int {
	if w <= 0 {
		return decode.DefaultWidth
	}
	return w
}

func weightOr(w float64) float64 {
	if w == 0 {
		return decode.DefaultLMWeight
	}
	return w
}

// Segmentation settings of long audio (see stream.go).
const (
	// pauseLength is how long the model must output only blanks (or
	// spaces) for a pause: audio may be cut in the middle of one without
	// context, and a stream reports an endpoint there.
	pauseLength = 480 * time.Millisecond
	// endpointContext is the audio that must follow a pause before a
	// partial result cuts there (a full window needs the whole context).
	endpointContext = time.Second
	// maxPendingAudio bounds the final log-probabilities kept undecoded
	// while no pause comes: past it they are decoded up to the last word
	// boundary.
	maxPendingAudio = 30 * time.Second
)

// Info describes the loaded model, backend and decoder.
func (r *Recognizer) Info() ModelInfo { return r.info }

// SampleRate returns the sample rate the model works at (audio at other
// rates is resampled to it).
func (r *Recognizer) SampleRate() int { return r.rate }

// Close releases the compiled graphs, the weights and the backend. Calls
// made after Close fail with [ErrClosed]; Close waits for calls in
// progress to return. Closing twice is harmless.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.am.close()
	if r.be != nil {
		r.be.Finalize()
	}
	return nil
}

// acquire holds the Recognizer open for one call; release with r.mu.RUnlock.
func (r *Recognizer) acquire() error {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Transcribe transcribes mono samples in [-1, 1] at sampleRate (any rate
// from 1 kHz to 1 MHz; they are resampled to the model's rate). Audio
// longer than the window (16 s by default) is transcribed in windows cut
// at pauses, or overlapping where there is none, with memory bounded by the
// window, not by the length of the audio.
func (r *Recognizer) Transcribe(ctx context.Context, samples []float32, sampleRate int) (Result, error) {
	s := r.NewStream()
	// Chunks keep the feature and resampler buffers small for long audio.
	const chunkSeconds = 8
	chunk := max(sampleRate*chunkSeconds, 1)
	for len(samples) > 0 {
		n := min(chunk, len(samples))
		if err := s.AcceptWaveform(ctx, sampleRate, samples[:n]); err != nil {
			return Result{}, err
		}
		samples = samples[n:]
	}
	if s.rate == 0 {
		// No samples at all: still check the rate.
		if err := s.setRate(sampleRate); err != nil {
			return Result{}, err
		}
	}
	return s.Finish(ctx)
}

// TranscribeFile decodes an audio file (WAV, FLAC or MP3, recognised by
// its content; see features.Decode) and transcribes it. Stereo and
// multi-channel audio is mixed down to mono.
func (r *Recognizer) TranscribeFile(ctx context.Context, path string) (Result, error) {
	a, err := features.DecodeFile(path)
	if err != nil {
		return Result{}, fmt.Errorf("asr: %w", err)
	}
	res, err := r.Transcribe(ctx, a.Samples, a.SampleRate)
	if err != nil {
		return Result{}, fmt.Errorf("asr: %s: %w", path, unwrapASR(err))
	}
	return res, nil
}

// TranscribeReader reads a whole audio stream (an upload, standard input)
// and transcribes it. The format is recognised by its magic bytes, never
// by a name or a content type.
func (r *Recognizer) TranscribeReader(ctx context.Context, rd io.Reader) (Result, error) {
	a, err := features.Decode(rd)
	if err != nil {
		return Result{}, fmt.Errorf("asr: %w", err)
	}
	return r.Transcribe(ctx, a.Samples, a.SampleRate)
}

// unwrapASR keeps messages from repeating the "asr: " prefix when an
// error is wrapped again with a file name.
func unwrapASR(err error) error {
	return &trimmed{err}
}

type trimmed struct{ err error }

func (t *trimmed) Error() string {
	s := t.err.Error()
	if len(s) > 5 && s[:5] == "asr: " {
		return s[5:]
	}
	return s
}

func (t *trimmed) Unwrap() error { return t.err }
