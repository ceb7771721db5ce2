package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/eval"
	"github.com/asrkit/asrkit/internal/testutil"
)

func runScore(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.Run(reorderArgs(app, append([]string{"asr", "score"}, args...)))
	return out.String(), err
}

func TestScore(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.txt")
	hyp := filepath.Join(dir, "hyp.tsv")
	os.WriteFile(ref, []byte("a|The cat sat.|The cat sat.\nb|On the mat, in 1865|on the mat in eighteen sixty five\nc|gone\n"), 0o644)
	// b: one substitution (mat -> hat); c missing: one deletion; a exact.
	os.WriteFile(hyp, []byte("a\tthe cat sat\nb\ton the hat in eighteen sixty five\n"), 0o644)
	out, err := runScore(t, "--json", ref, hyp)
	if err != nil {
		t.Fatal(err)
	}
	var res eval.ScoreReport
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if res.Utterances != 3 || res.RefWords != 11 || res.Subs != 1 || res.Dels != 1 || res.Ins != 0 {
		t.Errorf("got %+v", res)
	}
	if want := 2.0 / 11; res.WER != want {
		t.Errorf("WER = %v, want %v", res.WER, want)
	}
	out, err = runScore(t, ref, hyp, "--worst", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WER 18.18% (S 1, D 1, I 0)", "REF:", "HAT"} {
		if !strings.Contains(strings.ToUpper(out), strings.ToUpper(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestScoreErrors(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.txt")
	os.WriteFile(ref, []byte("a|x\n"), 0o644)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("no separator here\n"), 0o644)
	extra := filepath.Join(dir, "extra.txt")
	os.WriteFile(extra, []byte("a\tx\nz\ty\n"), 0o644)
	dup := filepath.Join(dir, "dup.txt")
	os.WriteFile(dup, []byte("a\tx\na\ty\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{ref}, "two files"},
		{[]string{ref, filepath.Join(dir, "missing")}, "no such file"},
		{[]string{ref, bad}, "bad.txt:1"},
		{[]string{ref, extra}, `id "z" has no reference`},
		{[]string{ref, dup}, "appears twice"},
	}
	for _, tt := range tests {
		_, err := runScore(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("score %v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestScoreLJSpeechMetadataAgainstItself(t *testing.T) {
	meta := testutil.Path(t, "ljspeech", "metadata.csv")
	out, err := runScore(t, meta, meta)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "utterances 8") || !strings.Contains(out, "WER 0.00%") {
		t.Errorf("got %s", out)
	}
}
