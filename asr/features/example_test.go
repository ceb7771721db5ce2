package features_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/asrkit/asrkit/asr/features"
)

// Decode a file (any WAV, FLAC or MP3), resample it to 16 kHz and compute its
// log-mel features.
func Example() {
	a, err := features.DecodeFile("../../testdata/ljspeech/wavs/LJ001-0002.wav")
	if err != nil {
		log.Fatal(err)
	}
	samples, err := features.Resample(a.Samples, a.SampleRate, 16000)
	if err != nil {
		log.Fatal(err)
	}
	ext, err := features.NewExtractor(features.Config{}) // the defaults
	if err != nil {
		log.Fatal(err)
	}
	m, err := ext.Compute(samples)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %d Hz, %.2f s → %d frames × %d bands\n", a.Format, a.SampleRate, a.Duration().Seconds(), m.Frames, m.Bands)
	// Output: wav, 22050 Hz, 1.90 s → 190 frames × 80 bands
}

// Formats that are recognised but not decoded say how to convert the file.
func ExampleDecodeFile_unsupported() {
	_, err := features.DecodeFile("../../testdata/audio/vorbis.ogg")
	var fe *features.FormatError
	if errors.As(err, &fe) {
		fmt.Println(fe.Format, errors.Is(err, features.ErrUnsupportedFormat))
		fmt.Println(err.Error()[strings.Index(err.Error(), "ffmpeg"):])
	}
	// Output:
	// ogg/vorbis true
	// ffmpeg -i ../../testdata/audio/vorbis.ogg -ac 1 -ar 16000 ../../testdata/audio/vorbis-16k.wav (or: sox ../../testdata/audio/vorbis.ogg -c 1 -r 16000 ../../testdata/audio/vorbis-16k.wav)
}

// A Resampler converts a stream chunk by chunk; the result equals Resample of
// the whole signal.
func ExampleResampler() {
	r, err := features.NewResampler(48000, 16000)
	if err != nil {
		log.Fatal(err)
	}
	var out []float32
	chunk := make([]float32, 4800) // 100 ms at 48 kHz
	for range 10 {
		out = r.Process(out, chunk)
	}
	out = r.Flush(out)
	fmt.Println(len(out), "samples at 16 kHz")
	// Output: 16000 samples at 16 kHz
}

// Configs are usually read from YAML (the training config's features:
// section); the zero value means the defaults, and Validate reports every
// problem at once.
func ExampleConfig_Validate() {
	cfg := features.Config{NumMels: 128, HopLength: -1, MelScale: "bark"}
	fmt.Println(cfg.Validate())
	// Output:
	// features.hop_length: -1 must be positive
	// features.mel_scale: "bark" is not slaney or htk
}

// Global normalisation: accumulate statistics over the training set, store
// the Normalization with the model, apply it to every utterance.
func ExampleStats() {
	ext, _ := features.NewExtractor(features.Config{})
	stats := features.NewStats(80)
	for seed := range uint64(3) { // three "utterances" of noise
		x := make([]float32, 16000)
		rng := rand.New(rand.NewPCG(seed, 1))
		for i := range x {
			x[i] = float32(0.1 * rng.NormFloat64())
		}
		m, _ := ext.ComputeDithered(x, seed)
		if err := stats.Add(m); err != nil {
			log.Fatal(err)
		}
	}
	norm, err := stats.Normalization()
	if err != nil {
		log.Fatal(err)
	}
	js, _ := json.Marshal(norm) // {"mean": [...], "std": [...]}
	fmt.Println(stats.Count, "frames;", len(norm.Mean), "bands;", strings.HasPrefix(string(js), `{"mean":[`))
	// Output: 303 frames; 80 bands; true
}

// SpecAugment masks normalised features for training, reproducibly.
func ExampleSpecAugment() {
	m := &features.LogMel{Data: make([]float32, 500*80), Frames: 500, Bands: 80}
	for i := range m.Data {
		m.Data[i] = 1
	}
	sa := features.DefaultSpecAugment()
	if err := sa.Apply(m, rand.New(rand.NewPCG(42, 0))); err != nil {
		log.Fatal(err)
	}
	zeros := 0
	for _, v := range m.Data {
		if v == 0 {
			zeros++
		}
	}
	fmt.Printf("%.0f%% masked\n", math.Round(100*float64(zeros)/float64(len(m.Data))))
	// Output: 47% masked
}

// Write the features as a NumPy array, readable with numpy.load.
func ExampleLogMel_WriteNPY() {
	m := &features.LogMel{Data: []float32{-16.6, -3.2, -1.5, -0.7}, Frames: 2, Bands: 2}
	f, err := os.CreateTemp("", "*.npy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	if err := m.WriteNPY(f); err != nil {
		log.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	fmt.Println(st.Size(), "bytes") // a 128-byte header and 4 float32s
	// Output: 144 bytes
}
