package asr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	check      int // input frames between looks for a pause (Options.EndpointInterval), 0 for none

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

// Load opens a model directory (from `asr export`), a checkpoint directory,
// or a run directory (its best checkpoint; see checkpoint.OpenModel) and prepares
// it for transcription on the chosen backend. opts may be nil (see
// [Options] for the defaults). The model graph is built and run once on a
// short input, so a model that does not fit its manifest is reported here
// rather than by the first transcription. Errors are *[Error]s of Op
// "load".
func Load(dir string, opts *Options) (*Recognizer, error) {
	r, err := load(dir, opts)
	return r, wrapErr("load", dir, err)
}

func load(dir string, opts *Options) (*Recognizer, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	ckpt, err := checkpoint.OpenModel(dir, opts.logger())
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
// and its weights; dir names it ("" for the bundled model). opts have been
// validated.
func newRecognizer(dir string, c *checkpoint.Checkpoint, loader *checkpoint.Loader, opts *Options) (*Recognizer, error) {
	if opts == nil {
		opts = &Options{}
	}
	m := c.Manifest
	spec, err := resolveDecoding(opts.Decoding, c)
	if err != nil {
		return nil, err
	}
	log := opts.logger()
	bspec, source := backend.Resolve(opts.Backend, "")
	be, binfo, err := backend.New(context.Background(), bspec)
	if err != nil {
		return nil, err
	}
	if binfo.Fallback != "" {
		log.Warn("GPU backend unusable, using the pure-Go backend", "reason", binfo.Fallback)
	}
	log.Debug("backend selected", "spec", bspec, "from", string(source), "backend", binfo.String())
	am, err := newGraphModel(be, m.Model, m.Features.WithDefaults().NumMels, loader)
	if err != nil {
		be.Finalize()
		return nil, err
	}
	r, err := assemble(dir, m, am, spec, opts)
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
		return nil, err
	}
	return r, nil
}

// resolveDecoding combines the Decoding options with the model directory's
// own decoding settings (reading its language model when it is used).
func resolveDecoding(d DecodingOptions, c *checkpoint.Checkpoint) (decoderSpec, error) {
	spec := decoderSpec{beam: d.Beam, lmPath: d.LM, lm: d.LanguageModel, lmWeight: d.LMWeight, wordBonus: d.WordBonus}
	own := c.Manifest.Decoding
	if own == nil || d.NoLM || spec.hasLM() {
		if !spec.hasLM() && d.LMWeight != 0 {
			return spec, fmt.Errorf("%w: a language-model weight (%g) without a language model", ErrOptions, d.LMWeight)
		}
		return spec, nil
	}
	if spec.beam == 0 {
		spec.beam = own.Beam
	}
	if d.LMWeight == 0 && d.WordBonus == 0 {
		spec.lmWeight, spec.wordBonus = own.LMWeight, own.WordBonus
	}
	if own.LM == "" {
		if spec.lmWeight != 0 {
			return spec, fmt.Errorf("%w: a language-model weight (%g), but the model directory has no language model", ErrOptions, spec.lmWeight)
		}
		return spec, nil
	}
	data, err := c.ReadFile(own.LM)
	if err != nil {
		return spec, err
	}
	lmodel, err := lm.ReadARPA(bytes.NewReader(data))
	if err != nil {
		return spec, fmt.Errorf("%w: language model %s: %w", ErrCorruptCheckpoint, own.LM, err)
	}
	spec.lm = lmodel
	return spec, nil
}

// assemble makes a Recognizer around an acoustic model: features,
// normalisation, decoder and window settings.
func assemble(dir string, m *checkpoint.Manifest, am acousticModel, spec decoderSpec, opts *Options) (*Recognizer, error) {
	fcfg := m.Features.WithDefaults()
	ext, err := features.NewExtractor(fcfg)
	if err != nil {
		return nil, fmt.Errorf("model features: %w", err)
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

	window, ctxt := opts.windows()
	toFrames := func(d time.Duration) int { // whole output frames, in input frames
		return int(d/r.frameDur) * model.SubsamplingFactor
	}
	r.window, r.ctxFrames = toFrames(window), toFrames(ctxt)
	if window < 0 || ctxt < 0 || r.window-2*r.ctxFrames < model.SubsamplingFactor {
		return nil, fmt.Errorf("%w: window %v must be longer than twice the context %v (by at least %v)", ErrOptions, window, ctxt, r.frameDur)
	}
	if opts.EndpointInterval > 0 {
		r.check = max(model.SubsamplingFactor, toFrames(opts.EndpointInterval))
	}
	r.pause = max(1, int(pauseLength/r.frameDur))
	r.maxPending = max(r.window/model.SubsamplingFactor, int(maxPendingAudio/r.frameDur))

	if (spec.beam == 0 || spec.beam == 1) && !spec.hasLM() {
		r.decoder = r.greedy
		r.info.Decoder = "greedy"
		return r, nil
	}
	// Beam search: its settings are checked here, once, not by every
	// Decode, and before a language model is read.
	b := decode.Beam{Vocab: r.vocab, FrameDuration: r.frameDur, Width: spec.beam, LMWeight: spec.lmWeight, WordBonus: spec.wordBonus}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	r.info.Decoder = fmt.Sprintf("beam(width=%d)", widthOr(spec.beam))
	if spec.hasLM() {
		if b.LM = spec.lm; b.LM == nil {
			if b.LM, err = lm.LoadARPA(spec.lmPath); err != nil {
				return nil, fmt.Errorf("language model: %w", err)
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
// window, not by the length of the audio. The result is the one a [Stream]
// given the same samples gives, in any chunks, whatever Partial calls are
// made on it. Errors are *[Error]s of Op "transcribe".
func (r *Recognizer) Transcribe(ctx context.Context, samples []float32, sampleRate int) (Result, error) {
	res, err := r.transcribe(ctx, samples, sampleRate)
	return res, wrapErr("transcribe", "", err)
}

func (r *Recognizer) transcribe(ctx context.Context, samples []float32, sampleRate int) (Result, error) {
	if err := r.acquire(); err != nil {
		return Result{}, err
	}
	defer r.mu.RUnlock()
	s := r.NewStream()
	if err := s.setRate(sampleRate); err != nil {
		return Result{}, err
	}
	// Chunks keep the feature and resampler buffers small for long audio.
	const chunkSeconds = 8
	chunk := max(sampleRate*chunkSeconds, 1)
	for len(samples) > 0 {
		n := min(chunk, len(samples))
		if err := s.accept(ctx, sampleRate, samples[:n]); err != nil {
			return Result{}, err
		}
		samples = samples[n:]
	}
	return s.finish(ctx)
}

// TranscribeFile transcribes an audio file (WAV, FLAC or MP3, recognised by
// its content; see features.Decode), reading it a block at a time: memory
// does not grow with its length. Stereo and multi-channel audio is mixed
// down to mono. A progress callback in ctx ([WithProgress]) is called as
// it goes. Errors are *[Error]s of Op "transcribe" with the file's path.
func (r *Recognizer) TranscribeFile(ctx context.Context, path string) (Result, error) {
	a, err := features.OpenAudio(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, by the Error
		}
		return Result{}, &Error{Op: "transcribe", Path: path, Err: err}
	}
	defer a.Close()
	res, err := r.transcribeAudio(ctx, a)
	if err != nil {
		return Result{}, &Error{Op: "transcribe", Path: path, Err: err}
	}
	return res, nil
}

// TranscribeReader transcribes an audio stream (an upload, standard input)
// as it reads it, so that a stream of any length, even one that never
// ends until it is closed, is transcribed in bounded memory. The format is
// recognised by its magic bytes, never by a name or a content type. A
// progress callback in ctx ([WithProgress]) is called as it goes. Errors
// are *[Error]s of Op "transcribe".
func (r *Recognizer) TranscribeReader(ctx context.Context, rd io.Reader) (Result, error) {
	a, err := features.NewAudioReader(rd)
	if err != nil {
		return Result{}, &Error{Op: "transcribe", Err: err}
	}
	res, err := r.transcribeAudio(ctx, a)
	return res, wrapErr("transcribe", "", err)
}

// Progress says how far a transcription has come.
type Progress struct {
	// Done is the length of the audio read and transcribed so far.
	Done time.Duration
	// Total is the length of the whole audio as its header announces it, or
	// 0 when it does not say (a stream, an MP3).
	Total time.Duration
}

type progressKey struct{}

// WithProgress returns a copy of ctx that makes [Recognizer.TranscribeFile]
// and [Recognizer.TranscribeReader] call fn after each block of audio
// (about half a second) they transcribe: for a progress bar, or a log of
// a long job. fn runs on the transcribing goroutine; it should return
// quickly. (The callback travels in the context, as net/http/httptrace's
// hooks do, so that the methods keep their plain signatures.)
func WithProgress(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// transcribeAudio transcribes what a reads, a block at a time.
func (r *Recognizer) transcribeAudio(ctx context.Context, a *features.AudioReader) (Result, error) {
	if err := r.acquire(); err != nil {
		return Result{}, err
	}
	defer r.mu.RUnlock()
	progress, _ := ctx.Value(progressKey{}).(func(Progress))
	rate := a.SampleRate()
	s := r.NewStream()
	if err := s.setRate(rate); err != nil {
		return Result{}, err
	}
	buf := make([]float32, max(rate/2, 1))
	total := a.Duration()
	for {
		n, err := a.Read(buf)
		if n > 0 {
			if err := s.accept(ctx, rate, buf[:n]); err != nil {
				return Result{}, err
			}
			if progress != nil {
				progress(Progress{Done: s.duration(), Total: total})
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, err
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
	}
	return s.finish(ctx)
}
