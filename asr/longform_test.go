package asr

import (
	gocontext "context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/wer"
	"github.com/asrkit/asrkit/internal/testutil"
)

// trainedRecognizer loads the model in $ASRKIT_TEST_MODEL for the tests
// of long audio with a real model, or skips the test. Their words must come
// out the same whether a clip is transcribed alone or inside a long file,
// which needs a model that recognises the clips well and is not thrown by
// neighbouring speech: neither the bundled model (trained on 2 CPU cores,
// about 76% WER on these real clips, so context changes most of its
// words) nor testdata/models/tiny-cpu (which has memorised each clip alone
// and garbles a clip that follows another within a window) is one. The
// exact checks of cutting and stitching are the tone-code tests
// (stream_tone_test.go); these run with a real model such as one trained on
// LJSpeech: ASRKIT_TEST_MODEL=DIR go test -run LongFile ./asr.
func trainedRecognizer(t *testing.T, opts Options) *Recognizer {
	t.Helper()
	dir := os.Getenv("ASRKIT_TEST_MODEL")
	if dir == "" {
		t.Skip("needs a model that generalises across context: set $ASRKIT_TEST_MODEL")
	}
	opts.Backend = "go"
	r, err := Load(dir, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// seamClip is one clip of a long file and where it is.
type seamClip struct {
	name       string
	samples    []float32
	start, end time.Duration // in the long file
	alone      []Word        // transcribed alone
}

// TestLongFileSeams builds a long file (about 2.5 minutes) by joining
// real clips with gaps that are too short to be pauses (so the windows
// overlap in the middle of speech) and gaps that are pauses, transcribes
// it in windows, and checks each clip's stretch against the clip
// transcribed alone: the same number of words (nothing lost or doubled at
// a seam) and nearly the same words (context across a seam may change a
// letter, not a word count).
func TestLongFileSeams(t *testing.T) {
	r := trainedRecognizer(t, Options{})
	ctx := gocontext.Background()
	var clips []*seamClip
	for _, p := range testutil.LJSpeechClips(t) {
		clips = append(clips, &seamClip{name: filepath.Base(p), samples: clip16k(t, p)})
	}
	for _, c := range clips {
		res, err := r.Transcribe(ctx, c.samples, 16000)
		if err != nil {
			t.Fatal(err)
		}
		c.alone = res.Words
	}
	// Three rounds of the clips, each joined with a gap from 50 ms to 1 s.
	gaps := []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, time.Second, 150 * time.Millisecond}
	var long []float32
	var parts []*seamClip
	for round := range 3 {
		for i, c := range clips {
			gap := gaps[(i+round)%len(gaps)]
			long = append(long, make([]float32, int(gap.Seconds()*16000))...)
			p := *c
			p.start = time.Duration(float64(len(long)) / 16000 * float64(time.Second))
			long = append(long, c.samples...)
			p.end = time.Duration(float64(len(long)) / 16000 * float64(time.Second))
			parts = append(parts, &p)
		}
	}
	t.Logf("long file: %.1f s, %d clips", float64(len(long))/16000, len(parts))

	for _, w := range []struct{ window, context time.Duration }{{0, 0}, {8 * time.Second, 2 * time.Second}} {
		t.Run(fmt.Sprintf("window=%v", w.window), func(t *testing.T) {
			rw := r
			if w.window != 0 {
				rw = trainedRecognizer(t, Options{Window: w.window, Context: w.context})
			}
			res, err := rw.Transcribe(ctx, long, 16000)
			if err != nil {
				t.Fatal(err)
			}
			var alone, joined []string
			wordsIn := func(p *seamClip) []string {
				var out []string
				for _, w := range res.Words {
					if mid := (w.Start + w.End) / 2; mid >= p.start-50*time.Millisecond && mid < p.end+50*time.Millisecond {
						out = append(out, w.Text)
					}
				}
				return out
			}
			bad := 0
			for _, p := range parts {
				got := wordsIn(p)
				want := newResult(append([]Word(nil), p.alone...), 0).Text
				if len(got) != len(p.alone) {
					bad++
					t.Logf("%s at %v: %d words in the long file, %d alone:\n  long:  %s\n  alone: %s", p.name, p.start, len(got), len(p.alone), strings.Join(got, " "), want)
				}
				alone = append(alone, want)
				joined = append(joined, strings.Join(got, " "))
			}
			a := wer.Words(strings.Join(alone, " "), strings.Join(joined, " "))
			t.Logf("%d words; the long file against the clips alone: WER %.2f%% (S %d, D %d, I %d); %d of %d clips with another word count",
				len(res.Words), 100*a.ErrorRate(), a.Subs, a.Dels, a.Ins, bad, len(parts))
			if a.Dels+a.Ins > len(parts)/8 || bad > len(parts)/8 || a.ErrorRate() > 0.05 {
				t.Errorf("words lost or doubled at seams: %d deletions, %d insertions, %d clips with another word count", a.Dels, a.Ins, bad)
			}
		})
	}
}

// TestLongFileMatchesSinglePass compares the transcript of 16 s of
// speech made in short windows (6 s, cut at pauses or overlapping by 1.5 s
// of context: several seams in the middle of speech) with one pass over
// all of it: the seams must not lose or double words, and may change only
// a few letters.
func TestLongFileMatchesSinglePass(t *testing.T) {
	windows := trainedRecognizer(t, Options{Window: 6 * time.Second, Context: 1500 * time.Millisecond})
	one := trainedRecognizer(t, Options{})
	var audio []float32
	for _, p := range testutil.LJSpeechClips(t)[:3] {
		a, err := features.DecodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		audio = append(audio, a.Samples...)
	}
	audio = audio[:16*22050]
	ctx := gocontext.Background()
	windowed, err := windows.Transcribe(ctx, audio, 22050)
	if err != nil {
		t.Fatal(err)
	}
	single, err := one.Transcribe(ctx, audio, 22050)
	if err != nil {
		t.Fatal(err)
	}
	a := wer.Words(single.Text, windowed.Text)
	c := wer.Chars(single.Text, windowed.Text)
	ref, hyp := a.Pretty()
	t.Logf("windowed vs one pass: %d words, WER %.2f%%, CER %.2f%%\nONE: %s\nWIN: %s", len(single.Words), 100*a.ErrorRate(), 100*c.ErrorRate(), ref, hyp)
	if a.ErrorRate() > 0.1 || a.Dels+a.Ins > 2 {
		t.Errorf("windows changed the transcript: %d deletions, %d insertions, WER %.1f%%", a.Dels, a.Ins, 100*a.ErrorRate())
	}
}
