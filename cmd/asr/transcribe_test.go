package main

import (
	"bytes"
	gocontext "context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	err = app.Run(reorderArgs(app, append([]string{"asr"}, args...)))
	return out.String(), errOut.String(), err
}

// libraryTexts transcribes files with the library, for comparison.
func libraryTexts(t *testing.T, dir string, paths ...string) []asr.Result {
	t.Helper()
	r, err := asr.Load(dir, asr.WithBackend("go"))
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
	if _, _, err := runASR(t, nil, "transcribe", "--model", dir, "--format", "srt", clips[1], clips[7]); err == nil || !strings.Contains(err.Error(), "--output-dir") {
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

// TestTranscribeProgress draws a progress bar for audio longer than 30 s
// and gets the same transcript as without it.
func TestTranscribeProgress(t *testing.T) {
	dir := randomModelDir(t)
	r, err := asr.Load(dir, asr.WithBackend("go"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a := &features.Audio{SampleRate: 22050}
	for _, p := range testutil.LJSpeechClips(t)[:5] {
		x, err := features.DecodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a.Samples = append(a.Samples, x.Samples...)
	}
	var bar bytes.Buffer
	with, err := transcribeAudio(gocontext.Background(), r, a, "long.wav", &bar)
	if err != nil {
		t.Fatal(err)
	}
	without, err := transcribeAudio(gocontext.Background(), r, a, "long.wav", nil)
	if err != nil {
		t.Fatal(err)
	}
	if with.Text != without.Text {
		t.Errorf("with a progress bar: %q\nwithout: %q", with.Text, without.Text)
	}
	if !strings.Contains(bar.String(), "long.wav") || !strings.Contains(bar.String(), fmt.Sprintf("/%d", int(a.Duration().Seconds()+0.5))) {
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
