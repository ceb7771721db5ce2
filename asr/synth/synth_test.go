package synth

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
		bad  bool
	}{
		{"0.85:1.15", Range{0.85, 1.15}, false},
		{"1", Range{1, 1}, false},
		{" -2 : 2 ", Range{-2, 2}, false},
		{"2:1", Range{}, true},
		{"a:b", Range{}, true},
		{"1:", Range{}, true},
		{"NaN", Range{}, true},
		{"", Range{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseRange(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil {
			var back Range
			txt, _ := got.MarshalText()
			if err := back.UnmarshalText(txt); err != nil || back != got {
				t.Errorf("text round trip of %v: %v %v", got, back, err)
			}
		}
	}
}

func TestParseVoice(t *testing.T) {
	for in, want := range map[string]Voice{
		"espeak-ng:en-us+f3":   {EngineEspeak, "en-us+f3"},
		"espeak:en-gb":         {EngineEspeak, "en-gb"},
		"flite:slt":            {EngineFlite, "slt"},
		"festival:kal_diphone": {EngineFestival, "kal_diphone"},
	} {
		if got, err := ParseVoice(in); err != nil || got != want {
			t.Errorf("ParseVoice(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"sapi:david", "flite", "flite:", ""} {
		if _, err := ParseVoice(in); err == nil {
			t.Errorf("ParseVoice(%q) accepted", in)
		}
	}
}

func TestReadSynthTexts(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "val.txt")
	os.WriteFile(p, []byte("\ufeff# comment\nLJ1|Hello there.\r\n\nLJ2|Raw 2 text|raw two text\nplain line\n"), 0o644)
	lines, err := readSynthTexts([]string{p}, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.id+"="+l.norm+"@"+l.list)
	}
	want := "[LJ1=Hello there.@val.txt LJ1-2=Hello there.@val.txt LJ2=raw two text@val.txt LJ2-2=raw two text@val.txt val-00005=plain line@val.txt val-00005-2=plain line@val.txt]"
	if s := "[" + strings.Join(got, " ") + "]"; s != want {
		t.Errorf("lines %s\nwant %s", s, want)
	}
	if l, _ := readSynthTexts([]string{p}, 1, 1); len(l) != 1 {
		t.Errorf("limit 1 gave %d lines", len(l))
	}
	for name, body := range map[string]string{
		"empty":  "LJ1|...\n",
		"fields": "a|b|c|d\n",
		"dup":    "a|x\na|y\n",
		"badid":  "../a|x\n",
		"none":   "# nothing\n",
	} {
		q := filepath.Join(dir, name+".txt")
		os.WriteFile(q, []byte(body), 0o644)
		if _, err := readSynthTexts([]string{q}, 0, 1); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name != "none" && !strings.Contains(err.Error(), q+":") {
			t.Errorf("%s: error %q does not name the line", name, err)
		}
	}
}

func TestAugmentNoiseLevel(t *testing.T) {
	const n = 22050
	for _, kind := range []string{"white", "pink", "brown"} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(0.1 * math.Sin(2*math.Pi*440*float64(i)/Rate))
		}
		clean := append([]float32(nil), x...)
		augment(x, &renderParams{Noise: kind, SNR: 20}, 1)
		var ps, pn float64
		for i := range x {
			ps += float64(clean[i]) * float64(clean[i])
			d := float64(x[i] - clean[i])
			pn += d * d
		}
		if snr := 10 * math.Log10(ps/pn); math.Abs(snr-20) > 0.1 {
			t.Errorf("%s noise: SNR %.2f dB, want 20", kind, snr)
		}
	}
	x := []float32{0.5, -0.8}
	augment(x, &renderParams{Gain: 6}, 1)
	if math.Abs(float64(x[1])+0.99) > 1e-6 || math.Abs(float64(x[0])-0.99*0.5/0.8) > 1e-6 {
		t.Errorf("clipping guard: %v", x)
	}
}

func TestSynthesizeEspeak(t *testing.T) {
	testutil.RequireTool(t, "espeak-ng")
	testutil.RequireTool(t, "sox")
	dir := t.TempDir()
	texts := filepath.Join(dir, "texts.txt")
	os.WriteFile(texts, []byte("A1|The first line.\nA2|A second, longer line of text.\nA3|Third.\n"), 0o644)
	opt := DefaultOptions()
	opt.Texts = []string{texts}
	opt.Out = filepath.Join(dir, "out")
	opt.Voices = []string{"espeak-ng:en-us", "espeak-ng:en-gb-scotland+f2"}
	opt.Seed = 3
	opt.Reverb = 0.5
	opt.NoiseSNR = Range{20, 30}
	opt.Tempo = Range{0.9, 1.1}
	ctx := context.Background()
	rep, err := Synthesize(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Utterances != 3 || rep.Rendered != 3 || rep.Seconds < 1 {
		t.Errorf("report %+v", rep)
	}
	meta, _ := os.ReadFile(filepath.Join(opt.Out, "metadata.csv"))
	if string(meta) != "A1|The first line.|The first line.\nA2|A second, longer line of text.|A second, longer line of text.\nA3|Third.|Third.\n" {
		t.Errorf("metadata.csv:\n%s", meta)
	}
	list, _ := os.ReadFile(filepath.Join(opt.Out, "lists", "texts.txt"))
	if string(list) != "A1\nA2\nA3\n" {
		t.Errorf("list %q", list)
	}
	for _, id := range []string{"A1", "A2", "A3"} {
		a, err := features.DecodeFile(filepath.Join(opt.Out, "wavs", id+".wav"))
		if err != nil || a.SampleRate != 22050 || a.Channels != 1 || len(a.Samples) < 22050/4 {
			t.Fatalf("%s: %v %+v", id, err, a)
		}
	}
	// The corpus passes the checks.
	r, err := data.Check(ctx, data.Config{LJSpeech: data.LJSpeechConfig{Path: opt.Out}, CacheDir: t.TempDir()}, data.Options{})
	if err != nil || r.Valid != 3 || len(r.Problems) != 0 {
		t.Fatalf("check: %v %+v", err, r)
	}
	// Same seed, same options: identical files. Resuming re-renders only
	// what is missing.
	opt2 := opt
	opt2.Out = filepath.Join(dir, "again")
	if _, err := Synthesize(ctx, opt2); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"A1", "A2", "A3"} {
		a, _ := os.ReadFile(filepath.Join(opt.Out, "wavs", id+".wav"))
		b, _ := os.ReadFile(filepath.Join(opt2.Out, "wavs", id+".wav"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two renders with the same seed", id)
		}
	}
	os.Remove(filepath.Join(opt.Out, "wavs", "A2.wav"))
	rep, err = Synthesize(ctx, opt)
	if err != nil || rep.Rendered != 1 || rep.Utterances != 3 {
		t.Errorf("resume: %+v %v", rep, err)
	}
	// Other options into the same folder are refused.
	opt.Seed = 4
	if _, err := Synthesize(ctx, opt); err == nil || !strings.Contains(err.Error(), "other options") {
		t.Errorf("changed options: %v", err)
	}
}

func TestSynthesizeFliteFestival(t *testing.T) {
	testutil.RequireTool(t, "flite")
	testutil.RequireTool(t, "text2wave")
	testutil.RequireTool(t, "sox")
	dir := t.TempDir()
	texts := filepath.Join(dir, "t.txt")
	os.WriteFile(texts, []byte("B1|Hello world.\nB2|Good morning.\n"), 0o644)
	opt := DefaultOptions()
	opt.Texts, opt.Out, opt.Voices = []string{texts}, filepath.Join(dir, "out"), []string{"flite:slt", "festival:kal_diphone"}
	rep, err := Synthesize(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PerVoice["flite:slt"] != 1 || rep.PerVoice["festival:kal_diphone"] != 1 {
		t.Errorf("voices %v: engines must alternate", rep.PerVoice)
	}
	for _, e := range []string{EngineFlite, EngineFestival} {
		vs, err := InstalledVoices(context.Background(), e)
		if err != nil || len(vs) == 0 {
			t.Errorf("%s voices: %v %v", e, vs, err)
		}
	}
}

func TestSynthesizeMissingTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	texts := filepath.Join(dir, "t.txt")
	os.WriteFile(texts, []byte("a|b\n"), 0o644)
	ctx := context.Background()
	for _, voices := range [][]string{nil, {"flite:slt"}, {"espeak-ng"}} {
		_, err := Synthesize(ctx, Options{Texts: []string{texts}, Out: filepath.Join(dir, "o"), Voices: voices})
		if !errors.Is(err, ErrSynthesizerMissing) || !strings.Contains(err.Error(), "apt-get install") {
			t.Errorf("voices %v: %v", voices, err)
		}
	}
	if _, err := Synthesize(ctx, Options{Texts: []string{texts}}); err == nil {
		t.Error("no output folder accepted")
	}
}
