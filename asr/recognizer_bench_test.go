package asr

import (
	gocontext "context"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/bundled"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// benchModels are the models the benchmarks run: the bundled model when
// this build has one, and randomly initialised presets (a trained model of
// the same preset does exactly the same work). The bundled model runs
// twice: as it decodes by default, and greedily.
func benchModels(b *testing.B) []struct {
	name string
	load func(opts *Options) (*Recognizer, error)
} {
	type entry = struct {
		name string
		load func(opts *Options) (*Recognizer, error)
	}
	var out []entry
	if _, err := fs.Stat(bundled.FS(), checkpoint.ManifestFile); err == nil {
		out = append(out, entry{"bundled", LoadDefault}) // with its default decoding (beam search and LM)
		out = append(out, entry{"bundled-greedy", func(opts *Options) (*Recognizer, error) {
			o := *opts
			o.Decoding.NoLM = true
			return LoadDefault(&o)
		}})
	}
	for _, preset := range []string{"tiny", "small"} {
		_, dir := randomModel(b, preset, 1, true)
		out = append(out, entry{preset, func(opts *Options) (*Recognizer, error) { return Load(dir, opts) }})
	}
	return out
}

// tenSeconds returns 10 s of real speech at 22.05 kHz (LJ001-0001 and the
// start of LJ001-0002), as a file would give it.
func tenSeconds(b *testing.B) []float32 {
	var x []float32
	for _, p := range testutil.LJSpeechClips(b)[:2] {
		a, err := features.DecodeFile(p)
		if err != nil {
			b.Fatal(err)
		}
		x = append(x, a.Samples...)
	}
	return x[:10*22050]
}

// BenchmarkTranscribe times Transcribe of a 10 s clip at 22.05 kHz:
// resampling, features, normalisation, the model and greedy decoding, on
// the pure-Go backend. RTF is the time per second of audio.
//
//	go test -run '^$' -bench Transcribe -benchtime 20x ./asr
func BenchmarkTranscribe(b *testing.B) {
	audio := tenSeconds(b)
	for _, m := range benchModels(b) {
		b.Run(m.name, func(b *testing.B) {
			r, err := m.load(&Options{Backend: "go"})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Transcribe(gocontext.Background(), audio, 22050); err != nil { // compile the graph
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.Transcribe(gocontext.Background(), audio, 22050); err != nil {
					b.Fatal(err)
				}
			}
			perRun := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(perRun/10, "RTF")
			b.ReportMetric(10/perRun, "audio-s/s")
		})
	}
}

// BenchmarkLoad times loading a model: reading and checking the files,
// creating the backend and building and running the smallest graph.
func BenchmarkLoad(b *testing.B) {
	for _, m := range benchModels(b) {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				r, err := m.load(&Options{Backend: "go"})
				if err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkPartial times what a live stream costs per half second of
// audio: AcceptWaveform of 0.5 s then Partial, over a stream of 30 s of
// speech (so the tail the model reruns grows and shrinks as windows are
// cut), on the bundled model (else a random tiny one): with cuts only at
// full windows (the default)
// and with Options.EndpointInterval at 500 ms (what a live service sets:
// it also cuts at pauses, so the tail stays short).
func BenchmarkPartial(b *testing.B) {
	// The bundled model finds the pauses of real speech; a random model
	// finds none, so looking for them only costs.
	load := func(opts *Options) (*Recognizer, error) { return LoadDefault(opts) }
	if _, err := fs.Stat(bundled.FS(), checkpoint.ManifestFile); err != nil {
		_, dir := randomModel(b, "tiny", 1, true)
		load = func(opts *Options) (*Recognizer, error) { return Load(dir, opts) }
	}
	var audio []float32
	for _, p := range testutil.LJSpeechClips(b)[:4] {
		audio = append(audio, clip16k(b, p)...)
	}
	for _, interval := range []time.Duration{0, 500 * time.Millisecond} {
		b.Run(fmt.Sprintf("interval=%v", interval), func(b *testing.B) {
			r, err := load(&Options{Backend: "go", EndpointInterval: interval})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			const half = 8000
			ctx := gocontext.Background()
			// Compile every graph length first.
			for n := 1; n <= r.window; n += 64 {
				if _, err := r.am.logProbs(ctx, make([]float32, n*80), n); err != nil {
					b.Fatal(err)
				}
			}
			var s *Stream
			pos := len(audio)
			var tail time.Duration
			b.ResetTimer()
			for b.Loop() {
				if pos+half > len(audio) {
					s, pos = r.NewStream(), 0
				}
				if err := s.AcceptWaveform(ctx, 16000, audio[pos:pos+half]); err != nil {
					b.Fatal(err)
				}
				pos += half
				if _, err := s.Partial(ctx); err != nil {
					b.Fatal(err)
				}
				tail += time.Duration(s.total-s.ws) * 10 * time.Millisecond
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/partial")
			b.ReportMetric(tail.Seconds()/float64(b.N), "tail-s")
		})
	}
}
