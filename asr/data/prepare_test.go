package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// quiet keeps expected warnings out of the test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func f64(v float64) *float64 { return &v }

// copyDir copies the regular files of src (one level of subfolders) to a
// new temporary folder, writable.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// wavSeconds is the duration of a canonical 44-byte-header 16-bit mono WAV
// at 22,050 Hz computed from its size alone, independently of any decoder.
func wavSeconds(t *testing.T, path string) float64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return float64(st.Size()-44) / 2 / 22050
}

func TestCheckLJSpeechSample(t *testing.T) {
	dir := testutil.Path(t, "ljspeech")
	cfg := Config{LJSpeech: LJSpeechConfig{Path: dir}, CacheDir: t.TempDir()}
	var bar bytes.Buffer
	rep, err := Check(context.Background(), cfg, Options{Logger: quiet, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bar.String(), "checking audio") || !strings.Contains(bar.String(), "8/8") {
		t.Errorf("progress bar output %q", bar.String())
	}
	if rep.Rows != 8 || rep.Valid != 8 || len(rep.Problems) != 0 || rep.Err() != nil {
		t.Fatalf("report: %+v", rep)
	}
	var want float64
	for _, p := range testutil.LJSpeechClips(t) {
		want += wavSeconds(t, p)
	}
	if math.Abs(rep.Seconds-want) > 1e-6 {
		t.Errorf("total %.6f s, want %.6f s", rep.Seconds, want)
	}
	if math.Abs(rep.MaxSeconds-9.666621) > 1e-5 || math.Abs(rep.MinSeconds-1.783447) > 1e-5 {
		t.Errorf("min/max %v %v", rep.MinSeconds, rep.MaxSeconds)
	}
	n := 0
	for _, h := range rep.Histogram {
		n += h.Count
	}
	if n != 8 || rep.Histogram[0].Lo != 1 {
		t.Errorf("histogram %+v", rep.Histogram)
	}
	// Check writes nothing.
	if ents, _ := os.ReadDir(cfg.CacheDir); len(ents) != 0 {
		t.Errorf("Check wrote %d entries into the cache folder", len(ents))
	}
}

// brokenCorpus builds an LJSpeech-format folder with every kind of fault,
// with a BOM and CRLF line endings. It returns the folder and the problems
// expected, as "id:kind" (or "line N:kind" for rows without an id).
func brokenCorpus(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "wavs"), 0o755)
	clips := testutil.LJSpeechClips(t)
	cp := func(src, id string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "wavs", id+".wav"), b, 0o644)
	}
	cp(clips[0], "good-long") // 9.66 s
	cp(clips[1], "good-1")    // 1.90 s
	cp(clips[3], "good-2")    // 5.14 s
	cp(clips[7], "short")     // 1.78 s
	cp(clips[1], "oov")
	cp(clips[1], "shortrow")
	cp(clips[1], "extra")
	cp(clips[1], "empty")
	cp(clips[1], "punct")
	os.WriteFile(filepath.Join(dir, "wavs", "corrupt.wav"), []byte("RIFF\x24\x00\x00\x00WAVEfmt garbage that is not a wav file"), 0o644)
	os.WriteFile(filepath.Join(dir, "wavs", "notaudio.wav"), []byte("hello, I am a text file\n"), 0o644)
	b, _ := os.ReadFile(clips[2])
	os.WriteFile(filepath.Join(dir, "wavs", "truncated.wav"), b[:30], 0o644)
	long := strings.Repeat("a b ", 60)
	rows := []string{
		"good-long|Printing, in the only sense|Printing, in the only sense",
		"good-1|in being \"comparatively\" modern.|in being \"comparatively\" modern.",
		"missing|This clip is missing.|This clip is missing.",
		"corrupt|Corrupt.|Corrupt.",
		"notaudio|Text.|Text.",
		"truncated|Truncated.|Truncated.",
		"shortrow|only two fields",
		"extra|a|b|c",
		"empty|Something|",
		"punct|...|...",
		"oov|Tokyo 東京|Tokyo 東京",
		"short|" + long + "|" + long,
		"good-2|Dup|Dup",
		"good-2|Again|Again",
	}
	meta := "\ufeff" + strings.Join(rows, "\r\n") + "\r\n"
	os.WriteFile(filepath.Join(dir, "metadata.csv"), []byte(meta), 0o644)
	want := []string{
		"missing:" + string(ProblemMissingAudio),
		"corrupt:" + string(ProblemUnreadableAudio),
		"notaudio:" + string(ProblemUnreadableAudio),
		"truncated:" + string(ProblemUnreadableAudio),
		"shortrow:" + string(ProblemMalformedRow),
		"extra:" + string(ProblemMalformedRow),
		"empty:" + string(ProblemEmptyText),
		"punct:" + string(ProblemEmptyText),
		"oov:" + string(ProblemOutOfVocabulary),
		"short:" + string(ProblemTooShortForCTC),
		"good-2:" + string(ProblemDuplicateID),
		"good-long:" + string(ProblemTooLong),
	}
	return dir, want
}

func problemSet(ps []Problem) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.ID+":"+string(p.Kind))
	}
	sort.Strings(s)
	return s
}

func TestCheckBrokenCorpus(t *testing.T) {
	dir, want := brokenCorpus(t)
	cfg := Config{LJSpeech: LJSpeechConfig{Path: dir}, CacheDir: t.TempDir(), MaxDuration: 8}
	rep, err := Check(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	if got := problemSet(rep.Problems); !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
	if rep.Rows != 14 || rep.Valid != 2 {
		t.Errorf("rows %d valid %d, want 14 and 2", rep.Rows, rep.Valid)
	}
	for _, p := range rep.Problems {
		if p.Line == 0 || p.Detail == "" || !strings.HasSuffix(p.Source, "metadata.csv") {
			t.Errorf("problem without line, detail or source: %+v", p)
		}
		if p.ID == "short" && !strings.Contains(p.Detail, "labels need at least") {
			t.Errorf("CTC detail: %s", p.Detail)
		}
		if p.ID == "oov" && !strings.Contains(p.Detail, "'東'") {
			t.Errorf("oov detail: %s", p.Detail)
		}
		if p.ID == "extra" && p.Line != 8 {
			t.Errorf("extra on line %d, want 8 (the BOM must not shift lines)", p.Line)
		}
	}
	err = rep.Err()
	if !errors.Is(err, ErrInvalidData) || !strings.Contains(err.Error(), "12 of 14 rows are invalid") || !strings.Contains(err.Error(), "skip_invalid") {
		t.Errorf("Err() = %v", err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, w := range []string{"missing: missing audio", "valid:      2 utterances", "1 characters outside the vocabulary"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, text.String())
		}
	}

	// Prepare refuses, then accepts with skip_invalid and builds only the valid ones.
	if _, err := Prepare(context.Background(), cfg, Options{Logger: quiet}); !errors.Is(err, ErrInvalidData) {
		t.Fatalf("Prepare without skip_invalid: %v", err)
	}
	cfg.SkipInvalid = true
	cfg.Split = SplitConfig{Val: f64(0), Test: f64(0)}
	d, err := Prepare(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(d.Utterances(Train)); got != 2 || !d.Report.Skipped || len(d.Report.Problems) != 12 {
		t.Errorf("train %d, skipped %v, problems %d", got, d.Report.Skipped, len(d.Report.Problems))
	}
}

func sampleConfig(t *testing.T) Config {
	return Config{
		LJSpeech: LJSpeechConfig{Path: copyDir(t, testutil.Path(t, "ljspeech"))},
		CacheDir: t.TempDir(),
		Split:    SplitConfig{Val: f64(0.25), Test: f64(0)},
	}
}

func entries(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lmf") {
			b, _ := os.ReadFile(p)
			m[strings.TrimPrefix(p, dir)] = b
		}
		return nil
	})
	return m
}

func TestPrepareCache(t *testing.T) {
	ctx := context.Background()
	cfg := sampleConfig(t)
	opts := Options{Logger: quiet}
	d, err := Prepare(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Stage times are thread CPU times, whose granularity can make a short
	// stage read 0: only their sum must be positive.
	if b := d.Build; b.Computed != 8 || b.Reused != 0 || b.Utterances != 8 || b.Decode+b.Resample+b.LogMel+b.Write <= 0 || b.Wall <= 0 {
		t.Errorf("first build: %+v", b)
	}
	if len(d.Utterances(Train))+len(d.Utterances(Val)) != 8 || len(d.Utterances(Val)) == 0 {
		t.Errorf("sets: %d train, %d val", len(d.Utterances(Train)), len(d.Utterances(Val)))
	}
	first := entries(t, d.Cache().Dir())
	if len(first) != 8 {
		t.Fatalf("%d cache entries", len(first))
	}
	if err := d.Normalization.Validate(); err != nil || len(d.Normalization.Mean) != 80 {
		t.Fatalf("normalization: %v", err)
	}

	// Features: train dithered with the utterance's seed, val not, both as
	// the extractor computes them, to float16 precision.
	ext, _ := features.NewExtractor(features.Config{})
	for _, s := range []Split{Train, Val} {
		u := d.Utterances(s)[0]
		a, err := features.DecodeFile(u.Audio)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := features.Resample(a.Samples, a.SampleRate, 16000)
		want, _ := ext.Compute(x)
		if s == Train {
			want, _ = ext.ComputeDithered(x, ditherSeed(u.ID))
		}
		got, err := d.Features(&u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames != want.Frames || got.Frames != u.Frames {
			t.Fatalf("%s: %d frames, want %d (utterance says %d)", u.ID, got.Frames, want.Frames, u.Frames)
		}
		for i := range want.Data {
			if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > math.Abs(float64(want.Data[i]))/1024+1e-6 {
				t.Fatalf("%s (%s) value %d: %v, want %v", u.ID, s, i, got.Data[i], want.Data[i])
			}
		}
	}

	// Normalisation statistics agree with a float64 computation over the
	// cached training features.
	var sum, sq [80]float64
	var n float64
	for _, u := range d.Utterances(Train) {
		m, _ := d.Features(&u, nil)
		for f := 0; f < m.Frames; f++ {
			for b, v := range m.Frame(f) {
				sum[b] += float64(v)
				sq[b] += float64(v) * float64(v)
			}
			n++
		}
	}
	for b := range 80 {
		mean := sum[b] / n
		std := math.Sqrt(sq[b]/n - mean*mean)
		if math.Abs(mean-float64(d.Normalization.Mean[b])) > 1e-3 || math.Abs(std-float64(d.Normalization.Std[b]))/std > 1e-2 {
			t.Fatalf("band %d: mean %v std %v, want %v %v", b, d.Normalization.Mean[b], d.Normalization.Std[b], mean, std)
		}
	}

	// The split is written beside the cache.
	split, err := os.ReadFile(filepath.Join(d.Dir, "split.tsv"))
	if err != nil || !strings.Contains(string(split), "LJ001-0001\t") || strings.Count(string(split), "\n") != 10 {
		t.Errorf("split.tsv: %v\n%s", err, split)
	}

	// Second run: everything reused, nothing rewritten, same statistics.
	d2, err := Prepare(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if b := d2.Build; b.Computed != 0 || b.Reused != 8 || b.Stats != 0 {
		t.Errorf("second build: %+v", b)
	}
	if !slices.Equal(d2.Normalization.Mean, d.Normalization.Mean) {
		t.Error("statistics changed")
	}

	// Another cache root: byte-identical entries (deterministic dither).
	cfg3 := cfg
	cfg3.CacheDir = t.TempDir()
	cfg3.Workers = 1
	d3, err := Prepare(ctx, cfg3, opts)
	if err != nil {
		t.Fatal(err)
	}
	third := entries(t, d3.Cache().Dir())
	for k, v := range first {
		if !bytes.Equal(third[k], v) {
			t.Errorf("entry %s differs between two builds", k)
		}
	}
	if !slices.Equal(d3.Normalization.Std, d.Normalization.Std) {
		t.Error("statistics depend on the number of workers")
	}

	// A corrupt entry is detected and rebuilt; a changed audio file
	// (modification time) makes its entry stale.
	u := d.Utterances(Train)[0]
	p := d.Cache().path(u.ID)
	b, _ := os.ReadFile(p)
	b[len(b)-5] ^= 0x40
	os.WriteFile(p, b, 0o644)
	v := d.Utterances(Train)[1]
	future := time.Now().Add(time.Hour)
	os.Chtimes(v.Audio, future, future)
	d4, err := Prepare(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if b := d4.Build; b.Computed != 2 || b.Corrupt != 1 || b.Stale != 1 || b.Reused != 6 {
		t.Errorf("after corruption: %+v", b)
	}
	after := entries(t, d.Cache().Dir())
	rel := strings.TrimPrefix(p, d.Cache().Dir())
	if !bytes.Equal(after[rel], first[rel]) {
		t.Error("rebuilt entry differs from the original")
	}

	// Features() recomputes a corrupt entry instead of using it.
	os.WriteFile(p, []byte("garbage"), 0o644)
	m, err := d4.Features(&u, nil)
	if err != nil || m.Frames != u.Frames {
		t.Fatalf("self-healing load: %v", err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, first[rel]) {
		t.Error("self-healed entry differs from the original")
	}

	// A different feature config builds a new cache.
	opts.Features = features.Config{NumMels: 40}
	d5, err := Prepare(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d5.Cache().Dir() == d.Cache().Dir() || d5.Build.Computed != 8 || len(d5.Normalization.Mean) != 40 {
		t.Errorf("config change: dir %s, build %+v", d5.Cache().Dir(), d5.Build)
	}
	if len(entries(t, d.Cache().Dir())) != 8 {
		t.Error("old cache touched")
	}
	if len(d5.Report.Notes) != 1 || !strings.Contains(d5.Report.Notes[0], "1 feature caches for other feature configs") {
		t.Errorf("notes %q", d5.Report.Notes)
	}
}

func TestPrepareResumes(t *testing.T) {
	ctx := context.Background()
	cfg := sampleConfig(t)
	d, err := Prepare(ctx, cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// An interrupted build leaves some entries and a temporary file.
	for _, u := range d.Utterances(Train)[:3] {
		os.Remove(d.Cache().path(u.ID))
	}
	tmp := filepath.Join(d.Cache().Dir(), "00", ".x.lmf.tmp-123")
	os.MkdirAll(filepath.Dir(tmp), 0o755)
	os.WriteFile(tmp, []byte("partial"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(tmp, old, old)
	// A fresh temporary file is another process's write in progress (a
	// second job sharing the cache): it is left alone.
	live := filepath.Join(d.Cache().Dir(), "00", ".y.lmf.tmp-456")
	os.WriteFile(live, []byte("being written"), 0o644)
	d2, err := Prepare(ctx, cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if b := d2.Build; b.Computed != 3 || b.Reused != 5 {
		t.Errorf("resume: %+v", b)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("temporary file left")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("another writer's temporary file was removed: %v", err)
	}
	// A cancelled context stops the build with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	cfg.CacheDir = t.TempDir()
	if _, err := Prepare(cctx, cfg, Options{Logger: quiet}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestSplitRecordedAndChanged(t *testing.T) {
	ctx := context.Background()
	cfg := sampleConfig(t)
	d, err := Prepare(ctx, cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Report.Notes) != 0 {
		t.Errorf("notes on first run: %q", d.Report.Notes)
	}
	cfg.Split.Seed = 99
	d2, err := Prepare(ctx, cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(d2.Report.Notes) != 1 || !strings.Contains(d2.Report.Notes[0], "the split changed") {
		t.Errorf("notes: %q", d2.Report.Notes)
	}
	for _, u := range d2.Utterances(Val) {
		if HashSplit(u.ID, 99, 0.25, 0) != Val {
			t.Errorf("%s in val, hash says %s", u.ID, HashSplit(u.ID, 99, 0.25, 0))
		}
	}
}

func TestManifestDataset(t *testing.T) {
	dir := copyDir(t, testutil.Path(t, "corpus"))
	utts, _, err := ReadLJSpeech(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, us []Utterance) string {
		var b bytes.Buffer
		p := filepath.Join(dir, name)
		if err := WriteManifest(&b, p, us); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	cfg := Config{
		Manifests: ManifestConfig{Train: write("train.jsonl", utts[:4]), Val: write("val.jsonl", utts[4:5]), Test: write("test.jsonl", utts[5:])},
		CacheDir:  t.TempDir(),
	}
	d, err := Prepare(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Utterances(Train)) != 4 || len(d.Utterances(Val)) != 1 || len(d.Utterances(Test)) != 1 {
		t.Errorf("sets %d/%d/%d", len(d.Utterances(Train)), len(d.Utterances(Val)), len(d.Utterances(Test)))
	}
	if got := d.Utterances(Val)[0]; got.ID != "SYN-0005" || got.Target != "it is a fine page" {
		t.Errorf("val utterance %+v", got)
	}
	if len(d.Report.Sources) != 3 {
		t.Errorf("sources %q", d.Report.Sources)
	}
	// The manifests, not the recorded split, decide: move the val
	// utterance into the training manifest.
	write("train.jsonl", utts[:5])
	write("val.jsonl", nil)
	d, err = Prepare(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Utterances(Train)) != 5 || len(d.Utterances(Val)) != 0 {
		t.Errorf("after moving: %d train, %d val", len(d.Utterances(Train)), len(d.Utterances(Val)))
	}
}

func TestCheckErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Check(ctx, Config{}, Options{}); err == nil || !strings.Contains(err.Error(), "datasets.ljspeech.path") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := Check(ctx, Config{LJSpeech: LJSpeechConfig{Path: t.TempDir()}, CacheDir: t.TempDir()}, Options{}); err == nil || !strings.Contains(err.Error(), "metadata.csv") {
		t.Errorf("no metadata: %v", err)
	}
	cfg := Config{LJSpeech: LJSpeechConfig{Path: testutil.Path(t, "ljspeech")}, CacheDir: t.TempDir()}
	if _, err := Check(ctx, cfg, Options{Features: features.Config{NumMels: -1}}); err == nil || !strings.Contains(err.Error(), "n_mels") {
		t.Errorf("bad features config: %v", err)
	}
	if _, err := Check(ctx, cfg, Options{Subsampling: -2}); err == nil {
		t.Error("negative subsampling accepted")
	}
	_ = fmt.Sprint
}
