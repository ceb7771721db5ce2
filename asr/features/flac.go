package features

import (
	"bufio"
	"errors"
	"io"

	"github.com/mewkiz/flac"
)

// decodeFLAC decodes a FLAC stream with github.com/mewkiz/flac (pure Go).
func decodeFLAC(br *bufio.Reader) (a *Audio, err error) {
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
	capacity := 1 << 16
	if info.NSamples > 0 {
		capacity = int(min(info.NSamples, 1<<16))
	}
	out := make([]float32, 0, capacity)
	for {
		fr, err := stream.ParseNext()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, malformed("flac: frame after sample %d: %v", len(out), err)
		}
		bps := int(fr.BitsPerSample)
		if bps < 4 || bps > 32 || len(fr.Subframes) == 0 {
			return nil, malformed("flac: frame after sample %d has %d bits and %d channels", len(out), bps, len(fr.Subframes))
		}
		n := len(fr.Subframes[0].Samples)
		for _, sf := range fr.Subframes {
			if len(sf.Samples) != n {
				return nil, malformed("flac: channels of unequal length in a frame")
			}
		}
		scale := 1 / (float64(int64(1)<<(bps-1)) * float64(len(fr.Subframes)))
		for i := range n {
			var s int64
			for _, sf := range fr.Subframes {
				s += int64(sf.Samples[i])
			}
			out = append(out, float32(float64(s)*scale))
		}
	}
	if info.NSamples > 0 && uint64(len(out)) != info.NSamples {
		return nil, malformed("flac: the stream header announces %d samples but the frames hold %d (truncated file?)", info.NSamples, len(out))
	}
	return &Audio{Samples: out, SampleRate: int(info.SampleRate), Channels: int(info.NChannels), Format: "flac"}, nil
}
