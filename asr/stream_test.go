package asr

import (
	gocontext "context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// TestStreamFinishEqualsTranscribe is the regression test of a stream whose
// Partial calls changed where the audio was cut, and so its final text:
// with testdata/models/tiny-cpu, LJ001-0005 streamed with one Partial gave
// "considered as he ave naon gf the art of printing", not the batch result.
// Whatever the chunk sizes and the Partial calls, the words that Endpoint
// and Finish return (text and times) must be those of Transcribe, with and
// without Options.EndpointInterval and windows that cut the clip.
func TestStreamFinishEqualsTranscribe(t *testing.T) {
	dir := testutil.Path(t, "models", "tiny-cpu")
	clip := testutil.Path(t, "ljspeech", "wavs", "LJ001-0005.wav")
	a, err := features.DecodeFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	ctx := gocontext.Background()
	for _, opts := range []Options{
		{},
		{Window: 4 * time.Second, Context: time.Second, EndpointInterval: 300 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("window=%v,interval=%v", opts.Window, opts.EndpointInterval), func(t *testing.T) {
			opts.Backend = "go"
			r, err := Load(dir, &opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want, err := r.Transcribe(ctx, a.Samples, a.SampleRate)
			if err != nil {
				t.Fatal(err)
			}
			file, err := r.TranscribeFile(ctx, clip)
			if err != nil {
				t.Fatal(err)
			}
			sameWords(t, "TranscribeFile", file.Words, want.Words)
			rng := rand.New(rand.NewPCG(1, 2))
			for trial, partialEvery := range []int{1, 1, 3} {
				s := r.NewStream()
				var got []Word
				for pos, i := 0, 0; pos < len(a.Samples); i++ {
					n := min(len(a.Samples)-pos, 1+rng.IntN(a.SampleRate))
					if err := s.AcceptWaveform(ctx, a.SampleRate, a.Samples[pos:pos+n]); err != nil {
						t.Fatal(err)
					}
					pos += n
					if i%partialEvery == 0 {
						runs := s.runs
						if _, err := s.Partial(ctx); err != nil {
							t.Fatal(err)
						}
						if opts.EndpointInterval > 0 && s.runs != runs {
							t.Fatalf("with an endpoint interval, Partial ran the model")
						}
					}
					if trial%2 == 1 {
						if res, ok := s.Endpoint(); ok {
							got = append(got, res.Words...)
						}
					}
				}
				res, err := s.Finish(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res.Words...)
				sameWords(t, fmt.Sprintf("trial %d", trial), got, want.Words)
			}
			t.Logf("%q", want.Text)
		})
	}
}

// sameWords fails unless got and want are the same words at the same times.
func sameWords(t *testing.T, label string, got, want []Word) {
	t.Helper()
	text := func(ws []Word) string { return newResult(append([]Word(nil), ws...), time.Hour).Text }
	if len(got) != len(want) {
		t.Fatalf("%s: %q, want %q", label, text(got), text(want))
	}
	for i := range got {
		if got[i].Text != want[i].Text || got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Fatalf("%s: word %d is %+v, want %+v (%q, want %q)", label, i, got[i], want[i], text(got), text(want))
		}
	}
}
