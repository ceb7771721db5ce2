package features

import (
	"bytes"
	"math"
	"os"
	"testing"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"github.com/asrkit/asrkit/internal/testutil"
)

// go-audio/wav decodes integer WAVs into an IntBuffer; the adapter must give
// what Decode gives.
func TestFromIntBufferMatchesDecode(t *testing.T) {
	for _, file := range []string{"speech16k.wav", "pcm_u8.wav", "pcm_s24.wav", "stereo_s16.wav"} {
		path := testutil.Path(t, "audio", file)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		buf, err := wav.NewDecoder(f).FullPCMBuffer()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromIntBuffer(buf)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := DecodeFile(path)
		if got.SampleRate != want.SampleRate || got.Channels != want.Channels || len(got.Samples) != len(want.Samples) {
			t.Fatalf("%s: %d Hz %d ch %d samples, want %d %d %d", file, got.SampleRate, got.Channels, len(got.Samples), want.SampleRate, want.Channels, len(want.Samples))
		}
		for i := range got.Samples {
			if math.Abs(float64(got.Samples[i]-want.Samples[i])) > 1e-7 {
				t.Fatalf("%s: sample %d = %g, want %g", file, i, got.Samples[i], want.Samples[i])
			}
		}
	}
}

// An IntBuffer made by the adapter encodes with go-audio/wav into a file
// that Decode reads back.
func TestIntBufferRoundTrip(t *testing.T) {
	a := &Audio{Samples: []float32{0, 0.5, -0.5, 1, -1, 2}, SampleRate: 16000, Channels: 1}
	for _, depth := range []int{8, 16, 24, 32} {
		buf, err := a.IntBuffer(depth)
		if err != nil {
			t.Fatal(err)
		}
		path := t.TempDir() + "/x.wav"
		f, _ := os.Create(path)
		enc := wav.NewEncoder(f, 16000, depth, 1, 1)
		if err := enc.Write(buf); err != nil {
			t.Fatal(err)
		}
		enc.Close()
		f.Close()
		back, err := DecodeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		step := math.Ldexp(1, 1-depth)
		want := []float32{0, 0.5, -0.5, float32(1 - step), -1, float32(1 - step)} // clipped
		for i, v := range back.Samples {
			if math.Abs(float64(v-want[i])) > step {
				t.Errorf("%d-bit: sample %d = %g, want %g", depth, i, v, want[i])
			}
		}
	}
	if _, err := a.IntBuffer(4); err == nil {
		t.Error("4-bit: no error")
	}
}

func TestFloat32Buffer(t *testing.T) {
	a := &Audio{Samples: []float32{0.25, -0.5}, SampleRate: 8000}
	fb := a.Float32Buffer()
	back, err := FromFloat32Buffer(fb)
	if err != nil || back.SampleRate != 8000 || back.Samples[1] != -0.5 {
		t.Errorf("round trip: %+v %v", back, err)
	}
	stereo := &audio.Float32Buffer{Format: &audio.Format{NumChannels: 2, SampleRate: 16000}, Data: []float32{1, 0, 0.5, 0.5}}
	if m, _ := FromFloat32Buffer(stereo); !bytes.Equal([]byte{byte(m.Samples[0] * 4), byte(m.Samples[1] * 4)}, []byte{2, 2}) {
		t.Errorf("stereo downmix: %v", m.Samples)
	}
	for _, bad := range []*audio.Float32Buffer{
		nil,
		{Format: nil},
		{Format: &audio.Format{NumChannels: 0, SampleRate: 16000}},
		{Format: &audio.Format{NumChannels: 1, SampleRate: 0}},
		{Format: &audio.Format{NumChannels: 2, SampleRate: 16000}, Data: []float32{1, 2, 3}},
	} {
		if _, err := FromFloat32Buffer(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
