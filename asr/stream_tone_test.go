package asr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
)

// The tests in this file check the cutting, stitching and decoding of long
// audio and streams exactly, with a test acoustic model whose output frame
// depends only on its own four input frames: then a windowed transcription
// must give exactly the text that was spoken, whatever the windows, seams,
// chunk sizes or input rate. The "speech" is a tone code: each character
// is a 40 ms tone (one model frame) at a frequency of its own followed by
// 40 ms of silence (the blank), a space is a tone too, and pauses are
// longer silences.

const (
	toneSlot = 40 * time.Millisecond // tone, then the same length of silence: one model frame each
	toneAmp  = 0.3
)

// toneBands are the mel bands whose centre frequencies code the
// vocabulary's symbols 1..28 (space, a-z, apostrophe): every second band
// from 22 (above 1 kHz, where bands are wide enough to tell apart).
func toneBands() []int {
	b := make([]int, 28)
	for i := range b {
		b[i] = 22 + 2*i
	}
	return b
}

// toneModel is the test acoustic model: output frame j is read from input
// frame 4j+2 (the middle of its 40 ms; its 25 ms window lies inside them):
// silence gives the blank, a tone the symbol of its band, each with
// probability 0.9.
type toneModel struct {
	bands, vocab int
	classOfBand  []int
	threshold    float32
	calls        int
}

func (m *toneModel) vocabSize() int { return m.vocab }
func (m *toneModel) close()         {}

func (m *toneModel) logProbs(ctx context.Context, feats []float32, frames int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.calls++
	n := model.OutputLength(frames)
	out := make([]float32, n*m.vocab)
	hi, lo := float32(math.Log(0.9)), float32(math.Log(0.1/float64(m.vocab-1)))
	for j := range n {
		t := min(4*j+2, frames-1)
		row := feats[t*m.bands : (t+1)*m.bands]
		b := argmax(row)
		class := 0
		if row[b] >= m.threshold {
			class = m.classOfBand[b]
		}
		for c := range m.vocab {
			out[j*m.vocab+c] = lo
		}
		out[j*m.vocab+class] = hi
	}
	return out, nil
}

// toneCentres returns the centre frequency (Hz) of each mel band: the FFT
// bin where its filter peaks.
func toneCentres(t *testing.T, cfg features.Config) []float64 {
	t.Helper()
	fb, err := features.MelFilters(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(fb))
	for b, row := range fb {
		out[b] = float64(argmax(row)) * float64(cfg.SampleRate) / float64(cfg.NFFT)
	}
	return out
}

// newToneRecognizer returns a Recognizer around the tone model, with the
// default features and identity normalisation.
func newToneRecognizer(t *testing.T, opts Options) (*Recognizer, *toneModel) {
	t.Helper()
	cfg := features.DefaultConfig()
	ext, err := features.NewExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vocab := text.DefaultVocabulary()
	m := &toneModel{bands: cfg.NumMels, vocab: vocab.Size(), classOfBand: make([]int, cfg.NumMels), threshold: -6}
	centres := toneCentres(t, cfg)
	// Calibrate: each symbol's tone must peak in its own band.
	for i, b := range toneBands() {
		tone := renderTone(centres[b], 0.2, cfg.SampleRate)
		mel, err := ext.Compute(tone)
		if err != nil {
			t.Fatal(err)
		}
		mid := mel.Frame(mel.Frames / 2)
		if got := argmax(mid); got != b || mid[b] < m.threshold+3 {
			t.Fatalf("tone of band %d peaks in band %d at %.1f", b, got, mid[got])
		}
		m.classOfBand[b] = i + 1
	}
	norm := features.Normalization{Mean: make([]float32, cfg.NumMels), Std: make([]float32, cfg.NumMels)}
	for i := range norm.Std {
		norm.Std[i] = 1
	}
	mcfg, _ := model.Preset("tiny")
	man := &checkpoint.Manifest{Model: mcfg, Features: cfg, Normalization: norm, Vocabulary: vocab}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := assemble("tones", man, m, decoderSpec{}, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, m
}

// renderTone is a sine of freq Hz lasting seconds, with 2 ms fades.
func renderTone(freq, seconds float64, rate int) []float32 {
	n := int(seconds * float64(rate))
	fade := int(0.002 * float64(rate))
	out := make([]float32, n)
	for i := range out {
		a := toneAmp
		if i < fade {
			a *= float64(i) / float64(fade)
		} else if n-1-i < fade {
			a *= float64(n-1-i) / float64(fade)
		}
		out[i] = float32(a * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// toneWord is a word of a tone script and where it is.
type toneWord struct {
	text       string
	start, end time.Duration
}

// toneScript renders phrases (words separated by space tones) with pauses
// of silence between them, at rate: a space tone before a gap shorter than
// a pause, none before a longer one. It returns the samples, the words with
// the times a decoder gives them (from the first frame of the first tone to
// the end of the last tone) and the text.
func toneScript(t *testing.T, rate int, phrases [][]string, pauses []time.Duration) ([]float32, []toneWord, string) {
	t.Helper()
	cfg := features.DefaultConfig()
	centres := toneCentres(t, cfg)
	bands := toneBands()
	vocab := text.DefaultVocabulary()
	var out []float32
	var words []toneWord
	at := time.Duration(0)
	silence := func(d time.Duration) {
		out = append(out, make([]float32, int(d.Seconds()*float64(rate)+0.5))...)
		at += d
	}
	symbol := func(r rune) {
		id, ok := vocab.ID(r)
		if !ok || id == 0 {
			t.Fatalf("no symbol for %q", r)
		}
		out = append(out, renderTone(centres[bands[id-1]], toneSlot.Seconds(), rate)...)
		at += toneSlot
		silence(toneSlot)
	}
	silence(200 * time.Millisecond)
	for i, p := range phrases {
		for j, w := range p {
			if j > 0 {
				symbol(' ')
			}
			start := at
			for _, r := range w {
				symbol(r)
			}
			words = append(words, toneWord{w, start, at - toneSlot})
		}
		if i < len(pauses) {
			if pauses[i] < pauseLength {
				// A gap too short to be a pause: a model marks the word
				// boundary with a space.
				symbol(' ')
			}
			silence(pauses[i])
		}
	}
	silence(200 * time.Millisecond)
	var all []string
	for _, w := range words {
		all = append(all, w.text)
	}
	return out, words, strings.Join(all, " ")
}

var toneVocabulary = strings.Fields("the a of and to in was that he it his for as with on by at had which be this from were but not all have they their who or one an been would there when out so said them she we into no what could her any ago man's don't")

// randomPhrases makes n phrases of 1 to maxWords words.
func randomPhrases(rng *rand.Rand, n, maxWords int) [][]string {
	out := make([][]string, n)
	for i := range out {
		k := 1 + rng.IntN(maxWords)
		for range k {
			out[i] = append(out[i], toneVocabulary[rng.IntN(len(toneVocabulary))])
		}
	}
	return out
}

func checkWords(t *testing.T, label string, got []Word, want []toneWord) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d words, want %d", label, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Text != w.text {
			t.Errorf("%s: word %d is %q, want %q (around %v)", label, i, g.Text, w.text, w.start)
			return
		}
		if d := g.Start - w.start; d < -40*time.Millisecond || d > 40*time.Millisecond {
			t.Errorf("%s: word %d %q starts at %v, want %v", label, i, g.Text, g.Start, w.start)
		}
		if d := g.End - w.end; d < -40*time.Millisecond || d > 40*time.Millisecond {
			t.Errorf("%s: word %d %q ends at %v, want %v", label, i, g.Text, g.End, w.end)
		}
	}
}

// TestToneTranscribeWindows transcribes a long tone script (about 3
// minutes: sentences with pauses, short gaps that are not pauses, and a
// 40 s stretch with no pause at all) with windows of several sizes. Every
// word must come out once, in order, at its time: nothing lost or doubled
// at a seam.
func TestToneTranscribeWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	phrases := randomPhrases(rng, 30, 8)
	// One phrase far longer than any window and than 30 s without a pause.
	phrases[12] = randomPhrases(rng, 1, 1)[0]
	for len(phrases[12]) < 60 {
		phrases[12] = append(phrases[12], toneVocabulary[rng.IntN(len(toneVocabulary))])
	}
	pauses := make([]time.Duration, len(phrases)-1)
	for i := range pauses {
		// From 0.24 s (shorter than a pause) to 1.5 s.
		pauses[i] = time.Duration(6+rng.IntN(32)) * 40 * time.Millisecond
	}
	samples, words, want := toneScript(t, 16000, phrases, pauses)
	t.Logf("%d words, %.1f s", len(words), float64(len(samples))/16000)

	for _, c := range []struct{ window, context time.Duration }{
		{0, 0}, // the defaults: 16 s, 2 s
		{4 * time.Second, time.Second},
		{2 * time.Second, 400 * time.Millisecond},
		{1200 * time.Millisecond, 520 * time.Millisecond},
		{10 * time.Minute, 2 * time.Second}, // one window for everything
	} {
		t.Run(fmt.Sprintf("window=%v,context=%v", c.window, c.context), func(t *testing.T) {
			r, m := newToneRecognizer(t, Options{Window: c.window, Context: c.context})
			res, err := r.Transcribe(context.Background(), samples, 16000)
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != want {
				t.Errorf("text differs:\n got %q\nwant %q", res.Text, want)
			}
			checkWords(t, "words", res.Words, words)
			if d := res.Duration - time.Duration(float64(len(samples))/16000*float64(time.Second)); d != 0 {
				t.Errorf("duration %v off by %v", res.Duration, d)
			}
			t.Logf("%d model runs", m.calls)
		})
	}
}

// TestToneNoPauseOverlapOnly has no pause at all, so every seam is an
// overlap seam that falls inside words.
func TestToneNoPauseOverlapOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	phrases := randomPhrases(rng, 1, 1)
	for len(phrases[0]) < 50 {
		phrases[0] = append(phrases[0], toneVocabulary[rng.IntN(len(toneVocabulary))])
	}
	samples, words, want := toneScript(t, 16000, phrases, nil)
	for _, w := range []time.Duration{2 * time.Second, 3 * time.Second, 5 * time.Second} {
		r, m := newToneRecognizer(t, Options{Window: w, Context: 480 * time.Millisecond})
		res, err := r.Transcribe(context.Background(), samples, 16000)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != want {
			t.Errorf("window %v:\n got %q\nwant %q", w, res.Text, want)
		}
		checkWords(t, fmt.Sprint("window ", w), res.Words, words)
		if min := int(float64(len(samples))/16000/(w-960*time.Millisecond).Seconds()) - 1; m.calls < min {
			t.Errorf("window %v: %d model runs, want at least %d (overlapping windows)", w, m.calls, min)
		}
	}
}

// TestToneResampled feeds the script at other sample rates.
func TestToneResampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	phrases := randomPhrases(rng, 6, 6)
	pauses := []time.Duration{time.Second, 600 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second, 800 * time.Millisecond}
	for _, rate := range []int{22050, 44100, 48000} {
		samples, words, want := toneScript(t, rate, phrases, pauses)
		r, _ := newToneRecognizer(t, Options{Window: 3 * time.Second, Context: 800 * time.Millisecond})
		res, err := r.Transcribe(context.Background(), samples, rate)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != want {
			t.Errorf("%d Hz:\n got %q\nwant %q", rate, res.Text, want)
		}
		checkWords(t, fmt.Sprint(rate, " Hz"), res.Words, words)
	}
}

// TestToneStream pushes the script in random chunks, asks for a partial
// result about every half second and takes endpoints as they come, as a
// WebSocket server would. The endpoints and the final result together
// must be the text, each endpoint must end at a pause, and each partial
// must start with the words not yet taken.
func TestToneStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	phrases := randomPhrases(rng, 12, 7)
	// About 30 s without a pause: partial results cut it with overlaps.
	for len(phrases[5]) < 40 {
		phrases[5] = append(phrases[5], toneVocabulary[rng.IntN(len(toneVocabulary))])
	}
	pauses := make([]time.Duration, len(phrases)-1)
	for i := range pauses {
		pauses[i] = time.Duration(15+rng.IntN(30)) * 40 * time.Millisecond
	}
	const rate = 44100
	samples, words, want := toneScript(t, rate, phrases, pauses)
	ctx := context.Background()
	for _, window := range []time.Duration{0, 3 * time.Second} {
		r, m := newToneRecognizer(t, Options{Window: window, Context: window / 4, EndpointInterval: 500 * time.Millisecond})
		s := r.NewStream()
		var got []Word
		endpoints, partials := 0, 0
		sinceP := 0
		for pos := 0; pos < len(samples); {
			n := min(len(samples)-pos, 1+rng.IntN(rate/5))
			if err := s.AcceptWaveform(ctx, rate, samples[pos:pos+n]); err != nil {
				t.Fatal(err)
			}
			pos += n
			sinceP += n
			if sinceP < rate/2 {
				continue
			}
			sinceP = 0
			p, err := s.Partial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			partials++
			// What is final plus the partial is the script so far, the
			// last word possibly cut short.
			so := strings.Fields(newResult(append(append([]Word(nil), got...), p.Words...), 0).Text)
			if n := len(so); n > 0 {
				wantWords := strings.Fields(want)
				if n > len(wantWords) || strings.Join(so[:n-1], " ") != strings.Join(wantWords[:n-1], " ") || !strings.HasPrefix(wantWords[n-1], so[n-1]) {
					t.Fatalf("at %.2f s the transcript so far is %q", float64(pos)/rate, strings.Join(so, " "))
				}
			}
			if res, ok := s.Endpoint(); ok {
				endpoints++
				if !strings.HasPrefix(p.Text, res.Text) {
					t.Errorf("partial %q does not start with the endpoint's %q", p.Text, res.Text)
				}
				got = append(got, res.Words...)
				last := res.Words[len(res.Words)-1]
				// Reported soon after the pause: a second of audio after
				// its middle, plus the half-second partial cadence.
				if now := time.Duration(float64(pos) / rate * float64(time.Second)); now-last.End > 3*time.Second {
					t.Errorf("endpoint after %q (%v) reported at %v", last.Text, last.End, now)
				}
				if i := len(got) - 1; i < len(words)-1 && words[i+1].start-last.End < 400*time.Millisecond {
					t.Errorf("endpoint after %q at %v, not at a pause (next word at %v)", last.Text, last.End, words[i+1].start)
				}
			}
			// Words already final are never revised by a partial.
			if p2, _ := s.Partial(ctx); p2.Text != p.Text {
				t.Errorf("a second Partial without new audio changed %q to %q", p.Text, p2.Text)
			}
		}
		res, err := s.Finish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Words...)
		if g := newResult(append([]Word(nil), got...), res.Duration).Text; g != want {
			t.Errorf("window %v: endpoints + final:\n got %q\nwant %q", window, g, want)
		}
		checkWords(t, "stream", got, words)
		if _, ok := s.Endpoint(); ok {
			t.Errorf("an endpoint after Finish")
		}
		if endpoints < len(phrases)/3 {
			t.Errorf("window %v: %d endpoints for %d pauses", window, endpoints, len(pauses))
		}
		t.Logf("window %v: %d partials, %d endpoints, %d model runs", window, partials, endpoints, m.calls)
		if _, err := s.Partial(ctx); !errors.Is(err, ErrStreamFinished) {
			t.Errorf("Partial after Finish: %v", err)
		}
	}
}
