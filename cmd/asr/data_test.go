package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/internal/testutil"
)

// runData runs "asr data ARGS..." through an app holding only that command,
// with trailing flags handled as in main. Tests put flags before positional
// arguments: once a cli.Command has run, urfave/cli has added a help
// subcommand to it, and reorderArgs then stops reordering its arguments
// (which only matters when a process runs commands more than once).
func runData(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var cmd *cli.Command
	for _, c := range commands {
		if c.Name == "data" {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatal("no data command registered")
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: []*cli.Command{cmd}, Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	setUpErrors(app)
	err := app.Run(reorderArgs(app, append([]string{"asr", "data"}, args...)))
	return out.String(), err
}

func TestDataCheckLJSpeech(t *testing.T) {
	out, err := runData(t, "check", "--cache-dir", t.TempDir(), testutil.Path(t, "ljspeech"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"rows:       8\n", "valid:      8 utterances, 0.8 min (1.78 to 9.67 s", "invalid:    0", "durations:"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// brokenLJSpeech writes a corpus with a missing wav, a corrupt wav and an
// empty transcript beside two good clips.
func brokenLJSpeech(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "wavs"), 0o755)
	clips := testutil.LJSpeechClips(t)
	for i, id := range []string{"LJ001-0001", "LJ001-0002", "EMPTY"} {
		b, _ := os.ReadFile(clips[i])
		os.WriteFile(filepath.Join(dir, "wavs", id+".wav"), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "wavs", "CORRUPT.wav"), []byte("RIFF....WAVEjunkjunkjunk"), 0o644)
	meta := "LJ001-0001|Printing, in the only sense|Printing, in the only sense\n" +
		"MISSING|Gone.|Gone.\n" +
		"LJ001-0002|in being comparatively modern.|in being comparatively modern.\n" +
		"CORRUPT|Broken.|Broken.\n" +
		"EMPTY|Nothing||\n"
	os.WriteFile(filepath.Join(dir, "metadata.csv"), []byte(meta), 0o644)
	return dir
}

func TestDataCheckNamesFaults(t *testing.T) {
	dir := brokenLJSpeech(t)
	out, err := runData(t, "check", "--ljspeech", dir, "--cache-dir", t.TempDir())
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "3 invalid item(s)") {
		t.Errorf("err = %v (exit %d), want exit 1 naming 3 invalid items", err, exitCode(err))
	}
	for _, w := range []string{
		"valid:      2 utterances",
		"metadata.csv:2: MISSING: missing audio",
		"metadata.csv:4: CORRUPT: unreadable audio",
		"metadata.csv:5: EMPTY: malformed row: 4 fields",
		"problems:   1 malformed row, 1 missing audio, 1 unreadable audio",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// With --skip-invalid the same corpus is accepted (exit 0), still listed.
	out, err = runData(t, "check", "--skip-invalid", "--json", "--cache-dir", t.TempDir(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Report struct {
			Valid    int `json:"valid"`
			Problems []struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"problems"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || js.Report.Valid != 2 || len(js.Report.Problems) != 3 {
		t.Errorf("json: %v %+v\n%s", err, js, out)
	}
}

func TestDataPrepareReusesAndRebuilds(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus")
	os.CopyFS(corpus, os.DirFS(testutil.Path(t, "corpus")))
	cfg := filepath.Join(dir, "c.yaml")
	write := func(features string) {
		y := "# a training config: other sections belong to the trainer\n" +
			"model:\n  preset: tiny\n  whatever: 3\n" +
			"datasets:\n  ljspeech:\n    path: corpus\n  cache_dir: cache\n  split:\n    val: 0\n    test: 0\n" +
			features +
			"train:\n  steps: 10\n"
		os.WriteFile(cfg, []byte(y), 0o644)
	}
	write("")
	out, err := runData(t, "prepare", "--config", cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "6 entries: 6 computed") || !strings.Contains(out, filepath.Join(dir, "cache")) || !strings.Contains(out, "log-mel") {
		t.Errorf("first prepare:\n%s", out)
	}
	out, err = runData(t, "prepare", "--config", cfg)
	if err != nil || !strings.Contains(out, "6 entries: 0 computed (0 stale, 0 corrupt), 6 reused") {
		t.Errorf("second prepare: %v\n%s", err, out)
	}
	write("features:\n  n_mels: 64\n")
	out, err = runData(t, "prepare", "--config", cfg)
	if err != nil || !strings.Contains(out, "6 entries: 6 computed") || !strings.Contains(out, "normalization: 64 bands") {
		t.Errorf("after a features change: %v\n%s", err, out)
	}
}

func TestDataConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("model:\n  preset: tiny\ndatasets:\n  ljspeech:\n    path: x\n  max_duraton: 3\n"), 0o644)
	if _, err := runData(t, "check", "--config", cfg); err == nil || !strings.Contains(err.Error(), "c.yaml:6") || !strings.Contains(err.Error(), "max_duraton") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := runData(t, "check"); err == nil || !strings.Contains(err.Error(), "name a corpus") {
		t.Errorf("no corpus: %v", err)
	}
	if _, err := runData(t, "check", "--ljspeech", dir); err == nil || !strings.Contains(err.Error(), "metadata.csv") {
		t.Errorf("no metadata: %v", err)
	}
}

func TestDataSynthThenCheck(t *testing.T) {
	testutil.RequireTool(t, "espeak-ng")
	dir := t.TempDir()
	texts := filepath.Join(dir, "val.txt")
	os.WriteFile(texts, []byte("LJ001-0001|Printing, in the only sense.\nLJ001-0002|in being comparatively modern.\n"), 0o644)
	out := filepath.Join(dir, "synth")
	msg, err := runData(t, "synth", "--texts", texts, "--out", out, "--voices", "espeak-ng:en-us,espeak-ng:en-gb+f3", "--pitch", "0", "--seed", "9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "2 clips (2 rendered now") || !strings.Contains(msg, "espeak-ng 2 clips") {
		t.Errorf("synth output:\n%s", msg)
	}
	rep, err := runData(t, "check", "--cache-dir", t.TempDir(), out)
	if err != nil || !strings.Contains(rep, "valid:      2 utterances") {
		t.Errorf("check of the synthetic corpus: %v\n%s", err, rep)
	}
	if _, err := runData(t, "synth", "--texts", texts, "--out", out, "--speed", "2:1"); err == nil || !strings.Contains(err.Error(), "--speed") {
		t.Errorf("bad range: %v", err)
	}
}
