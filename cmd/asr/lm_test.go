package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/internal/testutil"
)

// runLM runs "asr lm ARGS..." through an app holding a fresh lm command,
// with trailing flags handled as in main.
func runLM(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	registered := false
	for _, c := range commands {
		registered = registered || c.Name == "lm"
	}
	if !registered {
		t.Fatal("no lm command registered")
	}
	cmd := lmCommand()
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: []*cli.Command{cmd}, Reader: strings.NewReader(stdin), Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	setUpErrors(app)
	err := app.Run(reorderArgs(app, append([]string{"asr", "lm"}, args...)))
	return out.String(), err
}

func TestLMBuild(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lm.arpa")
	text := testutil.Path(t, "lm", "ljspeech_400.txt")
	held := testutil.Path(t, "lm", "ljspeech_heldout.txt")
	stdout, err := runLM(t, "", "build", text, "--order", "3", "--out", out, "--eval", held)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"400 sentences, 6933 words", "1-grams: 2199, discounts D1 0.6950 D2 1.2655 D3+ 1.3508", "3-grams: 6678", "wrote " + out, "ljspeech_heldout.txt: perplexity"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m, err := lm.LoadARPA(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Order() != 3 || m.Counts()[1] != 5784 {
		t.Errorf("loaded model: order %d counts %v", m.Order(), m.Counts())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("output file: %v %v", fi.Mode(), err)
	}
}

func TestLMBuildNormalizesAndReadsMetadata(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "lm.arpa")
	// Raw text from standard input is normalised: "Dr." "1865" "Don't".
	stdout, err := runLM(t, "Don't go, Dr. Smith!\nIn 1865 they left.\n", "build", "-", "--order", "2", "--out", out, "--discount-fallback")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "(fallback)") {
		t.Errorf("fallback not reported:\n%s", stdout)
	}
	m, err := lm.LoadARPA(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"don't", "dr", "eighteen", "sixty", "five"} {
		if !m.Contains(w) {
			t.Errorf("vocabulary lacks %q: %v", w, m.Words())
		}
	}
	// LJSpeech metadata: the normalised column is used.
	if _, err := runLM(t, "", "build", testutil.Path(t, "ljspeech", "metadata.csv"), "--metadata", "--order", "2", "--out", out, "--discount-fallback", "--force"); err != nil {
		t.Fatal(err)
	}
	m, err = lm.LoadARPA(out)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Contains("fourteen") || m.Contains("1455") {
		t.Errorf("metadata vocabulary: %v", m.Words())
	}
}

func TestLMBuildErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "lm.arpa")
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no texts", "", []string{"build", "--out", out}, "at least one text file"},
		{"missing file", "", []string{"build", filepath.Join(dir, "nope.txt"), "--out", out}, "nope.txt"},
		{"bad order", "a b\n", []string{"build", "-", "--order", "0", "--out", out}, "order 0"},
		{"too little text", "a b\n", []string{"build", "-", "--out", out}, "--discount-fallback"},
		{"no sentences", "\n!!\n", []string{"build", "-", "--out", out}, "no sentences"},
		{"bad metadata", "no pipes here\n", []string{"build", "-", "--metadata", "--out", out}, "standard input:1: not an id|text line"},
		{"no output", "a b\n", []string{"build", "-"}, "missing --out; see 'asr lm build --help'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runLM(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s", out)
	}
}

// TestLMBuildOutputs: --out never replaces an input (even with --force),
// replaces an existing file only with --force, and writes into a device
// such as /dev/null without replacing it.
func TestLMBuildOutputs(t *testing.T) {
	dir := t.TempDir()
	texts := filepath.Join(dir, "t.txt")
	text := "the cat sat on the mat\nthe dog sat on the log\n"
	os.WriteFile(texts, []byte(text), 0o644)
	args := func(extra ...string) []string {
		return append([]string{"build", "--order", "2", "--discount-fallback"}, extra...)
	}
	if _, err := runLM(t, "", args("--out", texts, "--force", texts)...); err == nil || !strings.Contains(err.Error(), "is also an input") {
		t.Errorf("--out t.txt t.txt: %v", err)
	}
	if b, _ := os.ReadFile(texts); string(b) != text {
		t.Errorf("the input became %q", b)
	}
	held := filepath.Join(dir, "held.txt")
	os.WriteFile(held, []byte("the cat\n"), 0o644)
	if _, err := runLM(t, "", args("--out", held, "--eval", held, texts)...); err == nil || !strings.Contains(err.Error(), "is also an input") {
		t.Errorf("--out over an --eval file: %v", err)
	}
	out := filepath.Join(dir, "lm.arpa")
	os.WriteFile(out, []byte("mine"), 0o644)
	if _, err := runLM(t, "", args("--out", out, texts)...); err == nil || !strings.Contains(err.Error(), "already exists; give --force") {
		t.Errorf("existing --out: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "mine" {
		t.Errorf("a refused build changed the file to %q", b)
	}
	if _, err := runLM(t, "", args("--out", out, "--force", texts)...); err != nil {
		t.Fatal(err)
	}
	if _, err := lm.LoadARPA(out); err != nil {
		t.Errorf("--force: %v", err)
	}
	// A named pipe stands for /dev/null or /dev/stdout (a test must not
	// risk the machine's /dev/null): it is written into, and stays a pipe.
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if _, err := runLM(t, "", args("--out", fifo, texts)...); err != nil {
		t.Errorf("--out a pipe: %v", err)
	}
	if b := <-got; !bytes.HasPrefix(b, []byte("\\data\\")) {
		t.Errorf("the pipe carried %q", b)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", st.Mode(), err)
	}
	if _, err := runLM(t, "", args("--out", dir, texts)...); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("--out a folder: %v", err)
	}
}
