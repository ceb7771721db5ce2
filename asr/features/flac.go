package features

import (
	"bufio"
	"errors"
	"io"

	"github.com/mewkiz/flac"
)

// flacData decodes a FLAC stream frame by frame with github.com/mewkiz/flac
// (pure Go).
type flacData struct {
	stream  *flac.Stream
	frame   []float32 // the current frame's samples not yet returned
	buf     []float32 // the storage of frame
	decoded uint64    // samples decoded so far
}

func newFLACReader(br *bufio.Reader) (a *AudioReader, err error) {
	defer func() {
		// The decoder is third-party code fed with untrusted input: a panic
		// on a corrupt stream must not cross this package's boundary.
		if r := recover(); r != nil {
			a, err = nil, malformed("flac: corrupt stream (decoder panic: %v)", r)
		}
	}()
	stream, err := flac.New(br)
	if err != nil {
		return nil, malformed("flac: %v", err)
	}
	info := stream.Info
	switch {
	case info.NChannels == 0:
		return nil, malformed("flac: zero channels")
	case info.SampleRate < MinSampleRate || info.SampleRate > MaxSampleRate:
		return nil, malformed("flac: sample rate %d Hz (want %d to %d)", info.SampleRate, MinSampleRate, MaxSampleRate)
	case info.BitsPerSample < 4 || info.BitsPerSample > 32:
		return nil, malformed("flac: %d bits per sample", info.BitsPerSample)
	}
	frames, capacity := int64(-1), 1<<16
	if info.NSamples > 0 {
		frames = int64(min(info.NSamples, 1<<62))
		capacity = int(min(info.NSamples, 1<<16))
	}
	d := &flacData{stream: stream}
	return &AudioReader{rate: int(info.SampleRate), channels: int(info.NChannels), format: "flac",
		frames: frames, capHint: capacity, read: d.read}, nil
}

func (d *flacData) read(dst []float32) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, malformed("flac: corrupt stream (decoder panic: %v)", r)
		}
	}()
	for len(d.frame) == 0 {
		if err := d.next(); err != nil {
			return 0, err
		}
	}
	n = copy(dst, d.frame)
	d.frame = d.frame[n:]
	return n, nil
}

// next decodes the next frame into d.frame.
func (d *flacData) next() error {
	fr, err := d.stream.ParseNext()
	if err != nil {
		if errors.Is(err, io.EOF) {
			if want := d.stream.Info.NSamples; want > 0 && d.decoded != want {
				return malformed("flac: the stream header announces %d samples but the frames hold %d (truncated file?)", want, d.decoded)
			}
			return io.EOF
		}
		return malformed("flac: frame after sample %d: %v", d.decoded, err)
	}
	bps := int(fr.BitsPerSample)
	if bps < 4 || bps > 32 || len(fr.Subframes) == 0 {
		return malformed("flac: frame after sample %d has %d bits and %d channels", d.decoded, bps, len(fr.Subframes))
	}
	n := len(fr.Subframes[0].Samples)
	for _, sf := range fr.Subframes {
		if len(sf.Samples) != n {
			return malformed("flac: channels of unequal length in a frame")
		}
	}
	scale := 1 / (float64(int64(1)<<(bps-1)) * float64(len(fr.Subframes)))
	if cap(d.buf) < n {
		d.buf = make([]float32, n)
	}
	out := d.buf[:n]
	for i := range n {
		var s int64
		for _, sf := range fr.Subframes {
			s += int64(sf.Samples[i])
		}
		out[i] = float32(float64(s) * scale)
	}
	d.frame = out
	d.decoded += uint64(n)
	return nil
}
