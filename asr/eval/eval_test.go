package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/internal/testutil"
)

func TestReadTranscripts(t *testing.T) {
	in := "\ufeffa\tThe Cat, sat.\r\n\nb|x|On the mat in 1865\nc|  spaced   out  \n"
	ts, err := ReadTranscripts(strings.NewReader(in), "refs", true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "the cat sat", "b": "on the mat in eighteen sixty five", "c": "spaced out"}
	if strings.Join(ts.IDs, ",") != "a,b,c" {
		t.Errorf("ids %v", ts.IDs)
	}
	for id, w := range want {
		if ts.Text[id] != w {
			t.Errorf("%s: %q, want %q", id, ts.Text[id], w)
		}
	}
	raw, err := ReadTranscripts(strings.NewReader("a\tThe Cat,  sat.\n"), "refs", false)
	if err != nil || raw.Text["a"] != "The Cat, sat." {
		t.Errorf("without normalisation: %q, %v", raw.Text["a"], err)
	}
	for _, c := range []struct{ in, want string }{
		{"a b c\n", "refs:1: want \"id<TAB>text\""},
		{"a|x\n\na|y\n", "refs:3: id \"a\" appears twice"},
	} {
		if _, err := ReadTranscripts(strings.NewReader(c.in), "refs", true); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

func TestScore(t *testing.T) {
	refs, _ := ReadTranscripts(strings.NewReader("a|the cat sat\nb|on the mat\nc|gone\n"), "refs", true)
	hyps, _ := ReadTranscripts(strings.NewReader("a|the cat sat\nb|on the hat\n"), "hyps", true)
	rep, err := Score(refs, hyps)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Utterances != 3 || rep.RefWords != 7 || rep.Subs != 1 || rep.Dels != 1 || rep.Ins != 0 || rep.WER != 2.0/7 {
		t.Errorf("%+v", rep)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b, 1); err != nil || !strings.Contains(b.String(), "WER 28.57% (S 1, D 1, I 0)") || !strings.Contains(b.String(), "HAT") {
		t.Errorf("%q, %v", b.String(), err)
	}
	extra, _ := ReadTranscripts(strings.NewReader("z|who\n"), "hyps", true)
	if _, err := Score(refs, extra); err == nil || !strings.Contains(err.Error(), `"z" has no reference`) {
		t.Errorf("hypothesis without a reference: %v", err)
	}
}

// TestRun evaluates testdata/models/tiny-cpu, which has memorised the
// testdata clips, on three of them and a missing file: every word right,
// the missing file counted as failed, the speed measured.
func TestRun(t *testing.T) {
	rec, err := asr.Load(testutil.Path(t, "models", "tiny-cpu"), &asr.Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	utts, err := ReadLJSpeech(testutil.Path(t, "ljspeech"))
	if err != nil || len(utts) != 8 || utts[0].ID != "LJ001-0001" {
		t.Fatalf("%d utterances, %v", len(utts), err)
	}
	utts = append(utts[:3], Utterance{ID: "gone", Audio: filepath.Join(t.TempDir(), "gone.wav"), Reference: "a b"})
	var progress []int
	rep, err := Run(context.Background(), rec, utts, Options{Progress: func(done, total int) { progress = append(progress, done*10+total) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Utterances != 3 || rep.Failed != 1 || rep.WER != 0 || rep.CER != 0 || rep.Words.Hits == 0 || !(rep.RTF > 0) || rep.Model == "" {
		t.Errorf("report %+v", rep)
	}
	if g := rep.Results[3]; !strings.Contains(g.Error, "gone.wav: no such file") {
		t.Errorf("the missing file: %+v", g)
	}
	if len(progress) != 4 || progress[3] != 44 {
		t.Errorf("progress %v", progress)
	}
	if w := rep.Worst(5); len(w) != 0 {
		t.Errorf("worst of a perfect run: %v", w)
	}
	js, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(js), `"wer":0`) {
		t.Errorf("json %s %v", js, err)
	}
	if _, err := Run(context.Background(), rec, nil, Options{}); err == nil {
		t.Error("no utterances: no error")
	}
}

func TestParseObject(t *testing.T) {
	keys, vals, err := parseObject([]byte(`{"b": 1, "a": {"x": [1, 2]}, "c": "s"}`))
	if err != nil || strings.Join(keys, ",") != "b,a,c" || string(vals[1]) != `{"x": [1, 2]}` {
		t.Errorf("%v %q %v", keys, vals, err)
	}
	for _, bad := range []string{`[1]`, `{"a": 1, "a": 2}`, `{"a": 1} {}`, `{"a": }`, `"x"`} {
		if _, _, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
