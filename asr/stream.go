package asr

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
)

// Stream transcribes audio that arrives in pieces: a microphone, a
// WebSocket, or a long file read chunk by chunk. Push samples with
// [Stream.AcceptWaveform], read the transcript so far with
// [Stream.Partial], take the words that are final at each pause with
// [Stream.Endpoint], and end with [Stream.Finish].
//
// How audio is cut: the model is bidirectional, so it needs audio on both
// sides of a word. A Stream keeps the features since the last cut (at most
// one window, 16 s by default). When the window is full, the model runs
// on it, and the audio is cut in the middle of the last pause that has at
// least the context (2 s) of audio after it; the words before the cut are
// final. Without a pause in the window's second half, the window's output
// is kept up to the context before its end, and the next window starts
// the context before that point: the two overlap, and each output frame
// comes from the window where it has the context on both sides. Final
// frames are joined and decoded as one sequence, cut only in a pause or
// (after 30 s without one) at a word boundary, so no word is split or
// repeated at a seam. With Options.EndpointInterval, the Stream also looks
// for a pause at that interval, and cuts at one followed by a second of
// audio: a live stream then gets final words and endpoints about a second
// after each pause, not when the window fills up.
//
// Where the audio is cut depends only on the audio, never on the chunks it
// came in or on the Partial calls made: the words that Endpoint and Finish
// return are those that [Recognizer.Transcribe] gives for the same
// samples. Partial changes nothing: it decodes the output of the last
// look for a pause (with Options.EndpointInterval, so a live stream costs
// one model run per interval however often Partial is called), or else
// runs the model on the audio since the last cut (at most one window).
//
// A Stream is not safe for concurrent use; a Recognizer serves any number
// of Streams at once.
type Stream struct {
	r        *Recognizer
	rate     int // input sample rate, 0 before the first samples
	rs       *features.Resampler
	fs       *features.Stream
	samples  int64     // input samples accepted, at rate
	resOut   []float32 // resampler output buffer
	bands    int
	vocab    int
	spaceID  int
	finished bool
	err      error // sticky: the stream's state is unusable after it

	buf      []float32 // normalised feature frames from global frame ws
	ws       int       // global input frame of buf[0]: where the next model run starts
	total    int       // global input frames received
	keepFrom int       // global output frame: the first one not yet final

	pending   []float32 // final log-probs not yet decoded, from output frame pendStart
	pendStart int

	words    []Word // final words, from the start of the stream
	taken    int    // words[:taken] have been returned by Endpoint
	endpoint int    // words[:endpoint] end at a pause

	partialAt  int // total (runs, with Options.EndpointInterval) when partialRes was computed, -1 if none
	partialRes Result
	nextCheck  int       // global input frame of the next look for a pause (Options.EndpointInterval)
	tentative  []float32 // the last run's log-probs after the final ones (from output frame keepFrom)

	// runs counts model runs, for tests.
	runs int
}

// NewStream starts a stream.
func (r *Recognizer) NewStream() *Stream {
	return &Stream{
		r:         r,
		fs:        r.ext.NewStream(),
		bands:     r.ext.Config().NumMels,
		vocab:     r.am.vocabSize(),
		spaceID:   r.vocab.Space(),
		partialAt: -1,
		nextCheck: r.check,
	}
}

// setRate fixes the input sample rate at the first samples.
func (s *Stream) setRate(rate int) error {
	if s.rate != 0 {
		if rate != s.rate {
			return fmt.Errorf("%w: the stream started at %d Hz and cannot change to %d Hz", ErrSampleRate, s.rate, rate)
		}
		return nil
	}
	if rate < features.MinSampleRate || rate > features.MaxSampleRate {
		return fmt.Errorf("%w: %d Hz (want %d to %d)", ErrSampleRate, rate, features.MinSampleRate, features.MaxSampleRate)
	}
	if rate != s.r.rate {
		rs, err := features.NewResampler(rate, s.r.rate)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSampleRate, err)
		}
		s.rs = rs
	}
	s.rate = rate
	return nil
}

// begin checks that the stream and its Recognizer can be used; on success
// the caller must call s.r.mu.RUnlock.
func (s *Stream) begin() error {
	switch {
	case s.finished:
		return ErrStreamFinished
	case s.err != nil:
		return s.err
	}
	return s.r.acquire()
}

// fail records an error that leaves the stream unusable.
func (s *Stream) fail(err error) error {
	s.err = err
	return err
}

// AcceptWaveform appends mono samples in [-1, 1] at sampleRate (resampled
// to the model's rate; every chunk of a stream must have the same rate).
// When a window fills up the model runs on it, so a call may take as long
// as one window's inference. Errors are *[Error]s of Op "stream".
func (s *Stream) AcceptWaveform(ctx context.Context, sampleRate int, samples []float32) error {
	if err := s.begin(); err != nil {
		return wrapErr("stream", "", err)
	}
	defer s.r.mu.RUnlock()
	return wrapErr("stream", "", s.accept(ctx, sampleRate, samples))
}

// accept is AcceptWaveform, with the Recognizer held.
func (s *Stream) accept(ctx context.Context, sampleRate int, samples []float32) error {
	if err := s.setRate(sampleRate); err != nil {
		return err
	}
	for i, x := range samples {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: sample %d is %v", ErrAudio, s.samples+int64(i), x)
		}
	}
	s.samples += int64(len(samples))
	in := samples
	if s.rs != nil {
		s.resOut = s.rs.Process(s.resOut[:0], samples)
		in = s.resOut
	}
	m, err := s.fs.Accept(in)
	if err != nil {
		return s.fail(fmt.Errorf("features: %w", err))
	}
	if err := s.addFrames(m); err != nil {
		return err
	}
	return s.process(ctx)
}

// addFrames normalises new feature frames and appends them.
func (s *Stream) addFrames(m *features.LogMel) error {
	if m.Frames == 0 {
		return nil
	}
	if err := s.r.norm.Apply(m); err != nil {
		return s.fail(fmt.Errorf("normalisation: %w", err))
	}
	s.buf = append(s.buf, m.Data...)
	s.total += m.Frames
	return nil
}

// process runs the model where the audio received calls for it, in the
// order of the audio: at every look for a pause (Options.EndpointInterval)
// and every full window. What it does depends only on the audio, not on
// how it was chunked.
func (s *Stream) process(ctx context.Context) error {
	for {
		full := s.ws + s.r.window
		if s.r.check > 0 {
			for s.nextCheck <= s.ws {
				s.nextCheck += s.r.check
			}
			if s.nextCheck < full && s.nextCheck <= s.total {
				at := s.nextCheck
				s.nextCheck += s.r.check
				if err := s.run(ctx, runCheck, at); err != nil {
					return err
				}
				continue
			}
		}
		if s.total < full {
			return nil
		}
		if err := s.run(ctx, runFull, full); err != nil {
			return err
		}
	}
}

// Partial returns the transcript so far: the words not yet taken by
// Endpoint, including tentative ones that later audio may still change.
// It changes nothing that later results depend on. Without
// Options.EndpointInterval it runs the model on the audio since the last
// cut (unless no audio came since the previous Partial); with it, the
// stream has run the model at the last look for a pause, and Partial only
// decodes that run's output: its words then reach the last look (at most
// one interval behind the audio accepted), at no model cost. Errors are
// *[Error]s of Op "stream".
func (s *Stream) Partial(ctx context.Context) (Result, error) {
	if err := s.begin(); err != nil {
		return Result{}, wrapErr("stream", "", err)
	}
	defer s.r.mu.RUnlock()
	res, err := s.partial(ctx)
	return res, wrapErr("stream", "", err)
}

func (s *Stream) partial(ctx context.Context) (Result, error) {
	key := s.total
	if s.r.check > 0 {
		key = s.runs
	}
	if s.partialAt == key {
		s.partialRes.Duration = s.duration()
		return s.partialRes, nil
	}
	lp := s.pending
	tentative := s.tentative
	if s.r.check == 0 {
		tentative = nil
		if s.total > s.ws {
			n := s.total - s.ws
			out, err := s.r.am.logProbs(ctx, s.buf[:n*s.bands], n)
			if err != nil {
				return Result{}, err
			}
			s.runs++
			tentative = out[(s.keepFrom-s.ws/model.SubsamplingFactor)*s.vocab:]
		}
	}
	if len(tentative) > 0 {
		lp = append(append(make([]float32, 0, len(s.pending)+len(tentative)), s.pending...), tentative...)
	}
	words := append([]Word(nil), s.words[s.taken:]...)
	if len(lp) > 0 {
		ws, err := s.decode(ctx, lp, s.pendStart)
		if err != nil {
			return Result{}, err
		}
		words = append(words, ws...)
	}
	if s.r.check > 0 {
		key = s.runs
	}
	s.partialAt = key
	s.partialRes = newResult(words, s.duration())
	return s.partialRes, nil
}

// Endpoint returns the words that became final at a pause since the
// previous call, and true; or false when no pause has been reached since.
// Words it returns are left out of later Partial and Finish results (and
// no longer held by the Stream), so a server can send each finished
// utterance once (as Vosk's "result" messages) and the rest as partial
// results.
func (s *Stream) Endpoint() (Result, bool) {
	if s.endpoint <= s.taken {
		return Result{}, false
	}
	res := newResult(append([]Word(nil), s.words[s.taken:s.endpoint]...), s.duration())
	s.taken = s.endpoint
	// Forget the words taken: a stream that never ends holds only those
	// not yet returned.
	s.words = s.words[:copy(s.words, s.words[s.taken:])]
	s.endpoint -= s.taken
	s.taken = 0
	return res, true
}

// Finish ends the stream: it transcribes the rest of the audio and returns
// the words not taken by Endpoint (all of them if Endpoint was never
// called). The stream cannot be used afterwards. Errors are *[Error]s of
// Op "stream".
func (s *Stream) Finish(ctx context.Context) (Result, error) {
	if err := s.begin(); err != nil {
		return Result{}, wrapErr("stream", "", err)
	}
	defer s.r.mu.RUnlock()
	res, err := s.finish(ctx)
	return res, wrapErr("stream", "", err)
}

func (s *Stream) finish(ctx context.Context) (Result, error) {
	if s.rs != nil {
		s.resOut = s.rs.Flush(s.resOut[:0])
		m, err := s.fs.Accept(s.resOut)
		if err != nil {
			return Result{}, s.fail(fmt.Errorf("features: %w", err))
		}
		if err := s.addFrames(m); err != nil {
			return Result{}, err
		}
	}
	m, err := s.fs.Flush()
	if err != nil {
		return Result{}, s.fail(fmt.Errorf("features: %w", err))
	}
	if err := s.addFrames(m); err != nil {
		return Result{}, err
	}
	if err := s.process(ctx); err != nil {
		return Result{}, err
	}
	if s.total > s.ws {
		if err := s.run(ctx, runFinish, s.total); err != nil {
			return Result{}, err
		}
	} else if err := s.decodePending(ctx, len(s.pending)/s.vocab, true); err != nil {
		return Result{}, err
	}
	s.finished = true
	s.buf, s.pending, s.resOut, s.tentative = nil, nil, nil, nil
	res := newResult(s.words[s.taken:], s.duration())
	s.taken, s.endpoint = len(s.words), len(s.words)
	return res, nil
}

// duration is the length of the audio accepted so far.
func (s *Stream) duration() time.Duration {
	if s.rate == 0 {
		return 0
	}
	return time.Duration(float64(s.samples) / float64(s.rate) * float64(time.Second))
}

// runMode says why the model runs.
type runMode int

const (
	runFull   runMode = iota // the window is full: something must become final
	runCheck                 // a look for a pause (Options.EndpointInterval): final only at a clear pause
	runFinish                // the end of the audio: everything is final
)

// run runs the model on the input frames from the window start ws to end
// (a full window, a look for a pause, or the rest of the audio) and makes
// final what may be.
func (s *Stream) run(ctx context.Context, mode runMode, end int) error {
	const sub = model.SubsamplingFactor
	n := end - s.ws
	lp, err := s.r.am.logProbs(ctx, s.buf[:n*s.bands], n)
	if err != nil {
		return s.fail(err)
	}
	s.runs++
	V := s.vocab
	outStart := s.ws / sub
	outEnd := outStart + model.OutputLength(n)
	rows := func(from, to int) []float32 { return lp[(from-outStart)*V : (to-outStart)*V] }

	if mode == runFinish {
		s.pending = append(s.pending, rows(s.keepFrom, outEnd)...)
		s.keepFrom = outEnd
		s.advance(s.total)
		return s.decodePending(ctx, len(s.pending)/V, true)
	}

	// A cut in a pause needs audio after it: the context for a full window,
	// a second for a look for a pause, so that a live stream reaches
	// endpoints soon after each pause.
	limit := outEnd - s.r.ctxFrames/sub
	if mode == runCheck {
		limit = outEnd - min(s.r.ctxFrames/sub, int(endpointContext/s.r.frameDur))
	}
	if c := s.lastPause(lp, outStart, s.keepFrom, limit); c > s.keepFrom && (mode == runCheck || c-outStart >= s.r.window/sub/2) {
		s.pending = append(s.pending, rows(s.keepFrom, c)...)
		s.keepFrom = c
		s.advance(c * sub)
		s.tentative = rows(c, outEnd)
		return s.decodePending(ctx, len(s.pending)/V, true)
	}
	if mode == runCheck {
		s.tentative = rows(s.keepFrom, outEnd)
		return nil
	}
	// Overlap: keep the output up to the context before the window's end;
	// the next window starts the context before that.
	finalEnd := (end - s.r.ctxFrames) / sub
	s.pending = append(s.pending, rows(s.keepFrom, finalEnd)...)
	s.keepFrom = finalEnd
	s.advance((end - 2*s.r.ctxFrames) / sub * sub)
	s.tentative = rows(finalEnd, outEnd)
	return s.boundPending(ctx)
}

// advance moves the window start to input frame ws (a multiple of 4),
// dropping the features before it.
func (s *Stream) advance(ws int) {
	drop := (ws - s.ws) * s.bands
	s.buf = s.buf[:copy(s.buf, s.buf[drop:])]
	s.ws = ws
	s.partialAt = -1
}

// lastPause returns the middle of the last pause that lies in output
// frames [from, to) of lp (which starts at output frame outStart), or -1.
// A pause is a run of at least r.pause frames whose most probable class is
// the blank or the space; a run cut by to still counts if long enough
// before it.
func (s *Stream) lastPause(lp []float32, outStart, from, to int) int {
	best, run := -1, 0
	for t := from; t < to; t++ {
		if c := argmax(lp[(t-outStart)*s.vocab : (t-outStart+1)*s.vocab]); c == 0 || c == s.spaceID {
			run++
			continue
		}
		if run >= s.r.pause {
			best = t - (run+1)/2
		}
		run = 0
	}
	if run >= s.r.pause {
		best = to - (run+1)/2
	}
	return best
}

// boundPending decodes the final log-probs held up to the last word
// boundary when they exceed r.maxPending frames (no pause for a long time).
func (s *Stream) boundPending(ctx context.Context) error {
	V := s.vocab
	n := len(s.pending) / V
	if n <= s.r.maxPending {
		return nil
	}
	// The end of the last space before the newest second of frames: the
	// words before it are complete.
	cut := n
	for t := n - 1 - min(n/4, int(time.Second/s.r.frameDur)); t > 0; t-- {
		if argmax(s.pending[t*V:(t+1)*V]) == s.spaceID {
			cut = t + 1
			break
		}
	}
	return s.decodePending(ctx, cut, false)
}

// decodePending decodes the first frames of the pending log-probs as one
// segment and appends its words; atPause marks them as ending at a pause.
func (s *Stream) decodePending(ctx context.Context, frames int, atPause bool) error {
	if frames > 0 {
		V := s.vocab
		ws, err := s.decode(ctx, s.pending[:frames*V], s.pendStart)
		if err != nil {
			return s.fail(err)
		}
		s.words = append(s.words, ws...)
		s.pending = s.pending[:copy(s.pending, s.pending[frames*V:])]
		s.pendStart += frames
	}
	if atPause {
		s.endpoint = len(s.words)
	}
	return nil
}

// decode decodes log-probs that start at output frame start. Each pause
// in them ends a word, even where the model put no space (between two
// sentences, say): the stretches between pauses are decoded separately.
func (s *Stream) decode(ctx context.Context, lp []float32, start int) ([]Word, error) {
	V := s.vocab
	frames := len(lp) / V
	var words []Word
	piece := func(from, to int) error {
		if to <= from {
			return nil
		}
		res, err := s.r.decoder.Decode(ctx, decode.LogProbs{Data: lp[from*V : to*V], Frames: to - from, Vocab: V})
		if err != nil {
			return fmt.Errorf("decoding: %w", err)
		}
		words = append(words, wordsFrom(res.Words, time.Duration(start+from)*s.r.frameDur)...)
		return nil
	}
	from, run := 0, 0
	for t := 0; t < frames; t++ {
		if c := argmax(lp[t*V : (t+1)*V]); c == 0 || c == s.spaceID {
			run++
			continue
		}
		if run >= s.r.pause && t-run > from {
			cut := t - (run+1)/2
			if err := piece(from, cut); err != nil {
				return nil, err
			}
			from = cut
		}
		run = 0
	}
	if err := piece(from, frames); err != nil {
		return nil, err
	}
	return words, nil
}

func argmax(row []float32) int {
	best := 0
	for i := 1; i < len(row); i++ {
		if row[i] > row[best] {
			best = i
		}
	}
	return best
}
