package main

import (
	"bytes"
	gocontext "context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/bundled"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testmodel"
	"github.com/asrkit/asrkit/internal/testutil"
)

// randomModelDir writes a model directory holding a randomly initialised
// tiny model (float16, the normalisation of the testdata clips): it
// transcribes nonsense, but deterministically, which is all the command
// tests need.
func randomModelDir(t *testing.T) string {
	t.Helper()
	_, dir := testmodel.Dirs(t, "tiny", 11, true)
	return dir
}

// runASR runs "asr ARGS..." in process with the transcribe and eval
// commands, standard input stdin; it returns standard output and error.
func runASR(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: []*cli.Command{transcribeCommand(), evalCommand()},
		Reader: bytes.NewReader(stdin), Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	setUpErrors(app)
	err = app.Run(reorderArgs(app, append([]string{"asr"}, args...)))
	return out.String(), errOut.String(), err
}

// libraryTexts transcribes files with the library, for comparison.
func libraryTexts(t *testing.T, dir string, paths ...string) []asr.Result {
	t.Helper()
	r, err := asr.Load(dir, &asr.Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []asr.Result
	for _, p := range paths {
		res, err := r.TranscribeFile(gocontext.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

func TestTranscribeCommand(t *testing.T) {
	dir := randomModelDir(t)
	clips := testutil.LJSpeechClips(t)
	want := libraryTexts(t, dir, clips[1], clips[7])

	// One file: the bare transcript.
	out, errOut, err := runASR(t, nil, "transcribe", clips[1], "--model", dir, "--backend", "go")
	if err != nil || out != want[0].Text+"\n" || errOut != "" {
		t.Errorf("one file: %q, stderr %q, %v; want %q", out, errOut, err, want[0].Text)
	}
	// Several, with standard input and a bad file: path<TAB>text lines for
	// the good ones, an error for the bad one, exit status 1.
	raw, err := os.ReadFile(clips[7])
	if err != nil {
		t.Fatal(err)
	}
	notAudio := filepath.Join(t.TempDir(), "notes.wav")
	os.WriteFile(notAudio, []byte("hello, not audio\n"), 0o644)
	out, errOut, err = runASR(t, raw, "transcribe", "--model", dir, "--backend", "go", clips[1], notAudio, "-")
	wantOut := clips[1] + "\t" + want[0].Text + "\n-\t" + want[1].Text + "\n"
	if out != wantOut {
		t.Errorf("several files:\n got %q\nwant %q", out, wantOut)
	}
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "1 of 3 files failed") {
		t.Errorf("error %v, want exit 1 with a count", err)
	}
	if !strings.Contains(errOut, "notes.wav") || !strings.Contains(errOut, "malformed") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q", errOut)
	}

	// JSON: one object for one file; one line with "path" each for several.
	out, _, err = runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", "--format", "json", clips[1])
	if err != nil {
		t.Fatal(err)
	}
	var res asr.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Text != want[0].Text || res.Duration.Round(time.Millisecond) != want[0].Duration.Round(time.Millisecond) || len(res.Words) != len(want[0].Words) {
		t.Errorf("json %s: %+v, %v", out, res, err)
	}
	out, _, err = runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", "-f", "json", clips[1], clips[7])
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 {
		t.Fatalf("json lines %q, %v", out, err)
	}
	var line struct {
		Path string `json:"path"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &line); err != nil || line.Path != clips[7] || line.Text != want[1].Text {
		t.Errorf("json line %s: %+v %v", lines[1], line, err)
	}

	// Subtitles on standard output for one file, into a folder for several.
	out, _, err = runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", "--format", "vtt", clips[1])
	if err != nil || !strings.HasPrefix(out, "WEBVTT\n\n") {
		t.Errorf("vtt: %q %v", out, err)
	}
	if _, _, err := runASR(t, nil, "transcribe", "--model", dir, "--format", "srt", clips[1], clips[7]); err == nil || !strings.Contains(err.Error(), "needs --out DIR") {
		t.Errorf("srt for several files without --output-dir: %v", err)
	}
	outDir := filepath.Join(t.TempDir(), "subs")
	dup := filepath.Join(t.TempDir(), filepath.Base(clips[1]))
	os.WriteFile(dup, mustRead(t, clips[1]), 0o644)
	out, errOut, err = runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", "--format", "srt", "--output-dir", outDir, clips[1], clips[7], dup)
	if err != nil || out != "" {
		t.Fatalf("--output-dir: %q %v", out, err)
	}
	for _, name := range []string{"LJ001-0002.srt", "LJ001-0008.srt", "LJ001-0002-2.srt"} {
		b, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil || (len(b) > 0 && !strings.HasPrefix(string(b), "1\n00:00:")) {
			t.Errorf("%s: %q %v", name, b, err)
		}
		if !strings.Contains(errOut, name) {
			t.Errorf("stderr does not name %s: %q", name, errOut)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTranscribeCommandErrors(t *testing.T) {
	dir := randomModelDir(t)
	clip := testutil.LJSpeechClips(t)[1]
	_, statErr := fs.Stat(bundled.FS(), checkpoint.ManifestFile)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give one or more audio files"},
		{[]string{clip, "--format", "docx", "--model", dir}, `unknown --format "docx"`},
		{[]string{"-", "-", "--model", dir}, "only once"},
		{[]string{clip, "--model", filepath.Join(dir, "nope")}, "no such file"},
		{[]string{clip, "--model", dir, "--lm-weight", "0.3"}, "weight (0.3) without a language model"},
		{[]string{clip, "--model", dir, "--beam", "-3"}, "beam width -3"},
		{[]string{clip, "--model", dir, "--backend", "xla:/nonexistent/plugin.so"}, "backend unavailable"},
		{[]string{"-", "--model", dir}, "standard input: malformed audio"},
	} {
		_, errOut, err := runASR(t, nil, append([]string{"transcribe"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error()+errOut, c.want) {
			t.Errorf("transcribe %q: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	// Without --model: the bundled model, or a clear error without one.
	out, _, err := runASR(t, nil, "transcribe", "--backend", "go", clip)
	if statErr != nil {
		if err == nil || !strings.Contains(err.Error(), "no bundled model: give --model DIR") {
			t.Errorf("no bundled model: %q, %v", out, err)
		}
	} else if err != nil || out == "" {
		t.Errorf("bundled model: %q, %v", out, err)
	}
}

// writeWAV writes 16-bit mono PCM.
func writeWAV(t *testing.T, path string, samples []float32, rate int) {
	t.Helper()
	b := bytes.NewBuffer(testutil.WAVHeader(rate, 2*len(samples)))
	w := func(v any) { binary.Write(b, binary.LittleEndian, v) }
	for _, x := range samples {
		w(int16(max(-32768, min(32767, math.Round(float64(x)*32768)))))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTranscribeProgress draws a progress bar for audio longer than 30 s
// and gets the same transcript as without it.
func TestTranscribeProgress(t *testing.T) {
	dir := randomModelDir(t)
	r, err := asr.Load(dir, &asr.Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var samples []float32
	for _, p := range testutil.LJSpeechClips(t)[:5] {
		x, err := features.DecodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, x.Samples...)
	}
	long := filepath.Join(t.TempDir(), "long.wav")
	writeWAV(t, long, samples, 22050)
	var bar, out bytes.Buffer
	job := &transcribeJob{format: "text", stdout: &out, stderr: io.Discard, progress: &bar}
	if err := job.file(gocontext.Background(), r, long); err != nil {
		t.Fatal(err)
	}
	without, err := r.TranscribeFile(gocontext.Background(), long)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != without.Text+"\n" {
		t.Errorf("with a progress bar: %q\nwithout: %q", out.String(), without.Text)
	}
	seconds := int(float64(len(samples))/22050 + 0.5)
	if !strings.Contains(bar.String(), "long.wav") || !strings.Contains(bar.String(), fmt.Sprintf("/%d", seconds)) {
		t.Errorf("progress output %q", bar.String())
	}
}

// TestTranscribeModelLM transcribes with a model directory that carries a
// language model: by default with it (as the library does), with --no-lm
// greedily.
func TestTranscribeModelLM(t *testing.T) {
	plain := randomModelDir(t)
	arpa := filepath.Join(t.TempDir(), "lm.arpa")
	if err := os.WriteFile(arpa, []byte("\\data\\\nngram 1=4\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.5\t<unk>\n-0.5\tthe\n\n\\end\\\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withLM := filepath.Join(t.TempDir(), "with-lm")
	if _, err := checkpoint.Export(plain, withLM, checkpoint.ExportOptions{LM: arpa, Beam: 4, WordBonus: 2}); err != nil {
		t.Fatal(err)
	}
	clip := testutil.LJSpeechClips(t)[1]
	lmText := libraryTexts(t, withLM, clip)[0].Text
	greedy := libraryTexts(t, plain, clip)[0].Text
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, lmText},
		{[]string{"--no-lm"}, greedy},
		{[]string{"--lm-weight", "0.5", "--word-bonus", "2"}, lmText}, // the export's own settings, given again
	} {
		args := append(append([]string{"transcribe", "--model", withLM, "--backend", "go"}, c.args...), clip)
		out, errOut, err := runASR(t, nil, args...)
		if err != nil || out != c.want+"\n" {
			t.Errorf("%v: %q (stderr %q, %v), want %q", c.args, out, errOut, err, c.want)
		}
	}
	if _, _, err := runASR(t, nil, "transcribe", "--model", withLM, "--no-lm", "--lm", arpa, clip); err == nil || !strings.Contains(err.Error(), "contradict") {
		t.Errorf("--no-lm with --lm: %v", err)
	}
}

// TestTranscribeFoldersFormatsAndOutputs: a folder stands for its audio
// files; txt is text; tsv has a header and one row per caption; --out
// never replaces an existing file without --force, and never an input.
func TestTranscribeFoldersFormatsAndOutputs(t *testing.T) {
	dir := randomModelDir(t)
	clips := testutil.LJSpeechClips(t)
	want := libraryTexts(t, dir, clips[1], clips[7])
	folder := t.TempDir()
	a, b := filepath.Join(folder, "a.wav"), filepath.Join(folder, "b.WAV")
	os.WriteFile(a, mustRead(t, clips[1]), 0o644)
	os.WriteFile(b, mustRead(t, clips[7]), 0o644)
	os.WriteFile(filepath.Join(folder, "notes.md"), []byte("not audio"), 0o644)
	os.Mkdir(filepath.Join(folder, "sub"), 0o755)
	run := func(args ...string) (string, string, error) {
		return runASR(t, nil, append([]string{"transcribe", "--model", dir, "--backend", "go"}, args...)...)
	}

	out, _, err := run(folder)
	if wantOut := a + "\t" + want[0].Text + "\n" + b + "\t" + want[1].Text + "\n"; err != nil || out != wantOut {
		t.Errorf("folder: %q, %v; want %q", out, err, wantOut)
	}
	if _, _, err := run(filepath.Join(folder, "sub")); err == nil || !strings.Contains(err.Error(), "holds no .wav, .flac, .mp3 files") {
		t.Errorf("empty folder: %v", err)
	}
	if out, _, err := run("--format", "txt", a); err != nil || out != want[0].Text+"\n" {
		t.Errorf("txt: %q, %v", out, err)
	}
	out, _, err = run("--format", "tsv", a)
	var tsv bytes.Buffer
	want[0].WriteTSV(&tsv)
	if err != nil || out != tsv.String() || !strings.HasPrefix(out, "start\tend\ttext\n") {
		t.Errorf("tsv: %q, %v; want %q", out, err, tsv.String())
	}
	out, _, err = run("-f", "tsv", a, b)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || lines[0] != "path\tstart\tend\ttext" || !strings.HasPrefix(lines[len(lines)-1], b+"\t") {
		t.Errorf("tsv of two files: %q, %v", out, err)
	}

	// --out: written once, refused the second time, replaced with --force.
	outDir := filepath.Join(t.TempDir(), "out")
	if _, _, err := run("-o", outDir, a, b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outDir, "a.txt"), []byte("mine\n"), 0o644)
	_, _, err = run("-o", outDir, a, b)
	if err == nil || !strings.Contains(err.Error(), "2 output file(s) already exist") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second run: %v", err)
	}
	if got := string(mustRead(t, filepath.Join(outDir, "a.txt"))); got != "mine\n" {
		t.Errorf("a refused run changed a.txt to %q", got)
	}
	if _, _, err := run("-o", outDir, "--force", a, b); err != nil {
		t.Fatal(err)
	}
	if got := string(mustRead(t, filepath.Join(outDir, "a.txt"))); got != want[0].Text+"\n" {
		t.Errorf("--force: a.txt is %q", got)
	}

	// An input whose output would replace it, even with --force: audio in
	// a file named .txt (formats are recognised by content).
	sneaky := filepath.Join(folder, "clip.txt")
	os.WriteFile(sneaky, mustRead(t, clips[1]), 0o644)
	_, _, err = run("-o", folder, "--force", sneaky)
	if err == nil || !strings.Contains(err.Error(), "is also an input") {
		t.Errorf("output over an input: %v", err)
	}
	if !bytes.Equal(mustRead(t, sneaky), mustRead(t, clips[1])) {
		t.Error("the input was overwritten")
	}
}

// TestTranscribeManifest transcribes a NeMo-style manifest into one with
// pred_text, keeping each row's fields in order; a row whose audio is
// missing gets an error field and the exit status is 1.
func TestTranscribeManifest(t *testing.T) {
	dir := randomModelDir(t)
	clips := testutil.LJSpeechClips(t)
	want := libraryTexts(t, dir, clips[1], clips[7])
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "b.wav"), mustRead(t, clips[7]), 0o644)
	manifest := filepath.Join(tmp, "test.jsonl")
	rows := fmt.Sprintf("{\"audio_filepath\": %q, \"duration\": 1.9, \"text\": \"in being comparatively modern\"}\n\n", clips[1]) +
		"{\"audio_filepath\": \"b.wav\", \"text\": \"has never been surpassed\", \"pred_text\": \"old\"}\n" +
		"{\"audio_filepath\": \"gone.wav\", \"text\": \"x\"}\n"
	os.WriteFile(manifest, []byte(rows), 0o644)

	out, _, err := runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", manifest)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "1 of 3 rows") {
		t.Errorf("error %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output manifest:\n%s", out)
	}
	p0, _ := json.Marshal(want[0].Text)
	if wantLine := fmt.Sprintf(`{"audio_filepath": %q, "duration": 1.9, "text": "in being comparatively modern", "pred_text": %s}`, clips[1], p0); lines[0] != wantLine {
		t.Errorf("row 1:\n got %s\nwant %s", lines[0], wantLine)
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &row); err != nil || row["pred_text"] != want[1].Text || row["audio_filepath"] != "b.wav" {
		t.Errorf("row 2: %s (%v)", lines[1], err)
	}
	if err := json.Unmarshal([]byte(lines[2]), &row); err != nil || row["pred_text"] != "" || !strings.Contains(row["error"].(string), "gone.wav: no such file") {
		t.Errorf("row 3: %s (%v)", lines[2], err)
	}

	// --out FILE; never the input manifest; --format does not apply.
	pred := filepath.Join(tmp, "pred.jsonl")
	if _, errOut, err := runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", "-o", pred, manifest); !errors.As(err, &ee) || !strings.Contains(errOut, "pred.jsonl (3 rows)") {
		t.Errorf("--out: %v, %q", err, errOut)
	}
	if got := string(mustRead(t, pred)); got != out {
		t.Errorf("--out wrote\n%s\nstandard output had\n%s", got, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", manifest, "--force", manifest}, "is also an input"},
		{[]string{"-o", pred, manifest}, "already exists; give --force"},
		{[]string{"-o", tmp, manifest}, "is a folder"},
		{[]string{"-f", "json", manifest}, "--format does not apply"},
		{[]string{manifest, clips[1]}, "must be the only input"},
	} {
		_, _, err := runASR(t, nil, append([]string{"transcribe", "--model", dir}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
}
