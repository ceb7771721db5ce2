package features

import (
	"fmt"
	"math"

	"github.com/go-audio/audio"
)

// FromIntBuffer converts a go-audio integer buffer (as go-audio/wav and
// go-audio/aiff decode) to mono float32 Audio. Samples are scaled by the
// buffer's SourceBitDepth (16 when unset).
func FromIntBuffer(b *audio.IntBuffer) (*Audio, error) {
	if b == nil || b.Format == nil {
		return nil, fmt.Errorf("features: go-audio buffer without a format")
	}
	depth := b.SourceBitDepth
	if depth == 0 {
		depth = 16
	}
	if depth < 1 || depth > 32 {
		return nil, fmt.Errorf("features: go-audio buffer of bit depth %d", depth)
	}
	scale := 1 / float64(int64(1)<<(depth-1))
	if depth == 8 {
		// go-audio keeps 8-bit WAV samples unsigned (0..255, silence 128).
		return fromInterleaved(b.Format, len(b.Data), func(i int) float64 { return (float64(b.Data[i]) - 128) / 128 })
	}
	return fromInterleaved(b.Format, len(b.Data), func(i int) float64 { return float64(b.Data[i]) * scale })
}

// FromFloat32Buffer converts a go-audio float32 buffer to mono Audio.
func FromFloat32Buffer(b *audio.Float32Buffer) (*Audio, error) {
	if b == nil || b.Format == nil {
		return nil, fmt.Errorf("features: go-audio buffer without a format")
	}
	return fromInterleaved(b.Format, len(b.Data), func(i int) float64 { return float64(b.Data[i]) })
}

func fromInterleaved(f *audio.Format, n int, at func(int) float64) (*Audio, error) {
	ch := f.NumChannels
	switch {
	case ch < 1 || ch > MaxChannels:
		return nil, fmt.Errorf("features: go-audio buffer with %d channels", ch)
	case f.SampleRate < MinSampleRate || f.SampleRate > MaxSampleRate:
		return nil, fmt.Errorf("features: go-audio buffer at %d Hz", f.SampleRate)
	case n%ch != 0:
		return nil, fmt.Errorf("features: go-audio buffer of %d samples is not a whole number of %d-channel frames", n, ch)
	}
	out := make([]float32, n/ch)
	for i := range out {
		var s float64
		for c := range ch {
			s += at(i*ch + c)
		}
		out[i] = float32(s / float64(ch))
	}
	return &Audio{Samples: out, SampleRate: f.SampleRate, Channels: ch, Format: "go-audio"}, nil
}

// IntBuffer returns the audio as a mono go-audio integer buffer of the given
// bit depth (8 to 32), ready for go-audio/wav's Encoder. Samples outside
// [-1, 1] are clipped; 8-bit samples are unsigned, as WAV stores them.
func (a *Audio) IntBuffer(bitDepth int) (*audio.IntBuffer, error) {
	if bitDepth < 8 || bitDepth > 32 {
		return nil, fmt.Errorf("features: bit depth %d (want 8 to 32)", bitDepth)
	}
	full := float64(int64(1) << (bitDepth - 1))
	data := make([]int, len(a.Samples))
	for i, s := range a.Samples {
		v := math.Round(float64(s) * full)
		v = max(-full, min(full-1, v))
		if bitDepth == 8 {
			v += 128
		}
		data[i] = int(v)
	}
	return &audio.IntBuffer{
		Format:         &audio.Format{NumChannels: 1, SampleRate: a.SampleRate},
		Data:           data,
		SourceBitDepth: bitDepth,
	}, nil
}

// Float32Buffer returns the audio as a mono go-audio float32 buffer. The
// samples are shared, not copied.
func (a *Audio) Float32Buffer() *audio.Float32Buffer {
	return &audio.Float32Buffer{
		Format:         &audio.Format{NumChannels: 1, SampleRate: a.SampleRate},
		Data:           a.Samples,
		SourceBitDepth: 32,
	}
}
