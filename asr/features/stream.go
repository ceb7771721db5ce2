package features

import (
	"errors"
	"fmt"
)

// ErrStreamFinished is returned by a [Stream] used after Flush.
var ErrStreamFinished = errors.New("features: stream already flushed")

// Stream computes the features of audio that arrives in pieces (a
// microphone, a WebSocket): each call to Accept returns the frames that the
// samples so far complete, and Flush returns the rest. The frames, taken
// together, are exactly those that [Extractor.Compute] gives for the whole
// signal. Frame t is complete once the samples up to t·hop + win_length/2
// have arrived (a look-ahead of 12.5 ms at the defaults). A Stream is not
// safe for concurrent use; an Extractor can serve any number of them.
type Stream struct {
	e       *Extractor
	scratch *frameScratch
	buf     []float32 // signal samples base, base+1, ...
	base    int
	n       int // samples accepted
	next    int // next frame to emit
	done    bool
}

// NewStream starts a feature stream.
func (e *Extractor) NewStream() *Stream {
	return &Stream{e: e, scratch: e.scratch.New().(*frameScratch)}
}

// Accept appends samples (mono, at the config's sample rate) and returns the
// frames they complete, possibly none.
func (s *Stream) Accept(samples []float32) (*LogMel, error) {
	if s.done {
		return nil, ErrStreamFinished
	}
	if i := firstNonFinite(samples); i >= 0 {
		return nil, fmt.Errorf("features: sample %d of the stream is %v", s.n+i, samples[i])
	}
	s.buf = append(s.buf, samples...)
	s.n += len(samples)
	// Frames whose window lies inside the samples so far.
	complete := 0
	if last := s.n - s.e.cfg.WinLength - s.e.windowStart(0); last >= 0 {
		complete = last/s.e.cfg.HopLength + 1
	}
	return s.emit(min(complete, s.e.NumFrames(s.n))), nil
}

// Flush returns the remaining frames (the end of the signal is zero padded,
// as Compute pads it) and finishes the stream.
func (s *Stream) Flush() (*LogMel, error) {
	if s.done {
		return nil, ErrStreamFinished
	}
	m := s.emit(s.e.NumFrames(s.n))
	s.done = true
	s.buf = nil
	return m, nil
}

// Frames returns the number of frames returned so far.
func (s *Stream) Frames() int { return s.next }

// emit computes frames next..upto-1 and drops the samples no later frame needs.
func (s *Stream) emit(upto int) *LogMel {
	bands := s.e.cfg.NumMels
	k := max(upto-s.next, 0)
	m := &LogMel{Data: make([]float32, k*bands), Frames: k, Bands: bands}
	for i := range k {
		start := s.e.windowStart(s.next+i) - s.base
		s.e.frameInto(s.buf, start, s.scratch, m.Data[i*bands:(i+1)*bands])
	}
	s.next += k
	// Keep from the sample before the next window (for pre-emphasis).
	keep := s.e.windowStart(s.next) - 1
	if drop := keep - s.base; drop > 0 && drop >= len(s.buf)/2 {
		drop = min(drop, len(s.buf))
		n := copy(s.buf, s.buf[drop:])
		s.buf = s.buf[:n]
		s.base += drop
	}
	return m
}
