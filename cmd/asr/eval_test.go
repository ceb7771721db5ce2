package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/eval"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/wer"
	"github.com/asrkit/asrkit/internal/testutil"
)

// TestEvalLJSpeech evaluates on the eight testdata clips and checks the
// figures against the library's transcripts scored with asr/wer.
func TestEvalLJSpeech(t *testing.T) {
	dir := randomModelDir(t)
	folder := testutil.Path(t, "ljspeech")
	utts, _, err := data.ReadLJSpeech(folder)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, u := range utts {
		paths = append(paths, u.Audio)
	}
	var corpus wer.Corpus
	for i, res := range libraryTexts(t, dir, paths...) {
		corpus.Add(text.Normalize(utts[i].Text), text.Normalize(res.Text))
	}

	out, _, err := runASR(t, nil, "eval", "--model", dir, "--backend", "go", "--ljspeech", folder, "--worst", "2")
	if err != nil {
		t.Fatal(err)
	}
	w := corpus.Words
	for _, want := range []string{
		fmt.Sprintf("WER:      %.2f%% (%d errors in 131 words: %d substitutions, %d deletions, %d insertions)", 100*corpus.WER(), w.Errors(), w.Subs, w.Dels, w.Ins),
		fmt.Sprintf("CER:      %.2f%%", 100*corpus.CER()),
		"8 utterances, 50.3 s of audio", "RTF ", "the 2 utterances with the highest WER", "  REF: ", "  HYP: ", "greedy decoding",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runASR(t, nil, "eval", "--model", dir, "--backend", "go", "--ljspeech", folder, "--json", "--limit", "3")
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Utterances != 3 || len(rep.Results) != 3 || rep.Results[0].ID != "LJ001-0001" || !(rep.RTF > 0) || rep.Words.Hits+rep.Words.Subs+rep.Words.Dels == 0 {
		t.Errorf("report %+v", rep)
	}
	var sum float64
	for _, r := range rep.Results {
		sum += r.Seconds
		if r.AlignedRef == "" || r.Reference == "" {
			t.Errorf("result %+v", r)
		}
	}
	if math.Abs(sum-rep.AudioSeconds) > 1e-6 {
		t.Errorf("audio seconds %g, utterances sum to %g", rep.AudioSeconds, sum)
	}
}

// TestTrainedTinyModel runs transcribe and eval with
// testdata/models/tiny-cpu, the model examples/configs/tiny-cpu.yaml trains
// (exported with --float16): it has memorised the eight real clips, so
// every word must come out right through the whole pipeline (decoding,
// resampling, features, normalisation, float16 weights, the network,
// decoding).
func TestTrainedTinyModel(t *testing.T) {
	dir := testutil.Path(t, "models", "tiny-cpu")
	folder := testutil.Path(t, "ljspeech")
	out, _, err := runASR(t, nil, "eval", "--model", dir, "--backend", "go", "--ljspeech", folder)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "WER:      0.00% (0 errors in 131 words") || !strings.Contains(out, "CER:      0.00%") {
		t.Errorf("eval of the memorised clips:\n%s", out)
	}
	out, _, err = runASR(t, nil, "transcribe", "--model", dir, "--backend", "go", filepath.Join(folder, "wavs", "LJ001-0002.wav"))
	if want := "in being comparatively modern\n"; err != nil || out != want {
		t.Errorf("transcribe: %q, %v; want %q", out, err, want)
	}
}

// TestEvalManifestAndConfig evaluates a manifest with a missing file (it
// is reported, the others are scored, the exit status is 1) and a split of
// a training config.
func TestEvalManifestAndConfig(t *testing.T) {
	dir := randomModelDir(t)
	tmp := t.TempDir()
	clips := testutil.LJSpeechClips(t)
	manifest := filepath.Join(tmp, "m.jsonl")
	rows := fmt.Sprintf(`{"audio_filepath": %q, "text": "in being comparatively modern."}
{"audio_filepath": %q, "text": "Has never been surpassed."}
{"audio_filepath": "gone.wav", "text": "a missing file"}
`, clips[1], clips[7])
	os.WriteFile(manifest, []byte(rows), 0o644)
	out, errOut, err := runASR(t, nil, "eval", "--model", dir, "--backend", "go", "--manifest", manifest)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "1 of 3 utterances") {
		t.Errorf("error %v", err)
	}
	if !strings.Contains(errOut, "cannot transcribe") || !strings.Contains(errOut, "gone.wav: no such file") || !strings.Contains(out, "2 utterances") || !strings.Contains(out, "(1 more failed)") || !strings.Contains(out, "in 8 words") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}

	os.WriteFile(filepath.Join(tmp, "val.txt"), []byte("SYN-0002\nSYN-0005\n"), 0o644)
	cfg := filepath.Join(tmp, "exp.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("datasets:\n  ljspeech:\n    path: %s\n  split:\n    lists:\n      val: val.txt\n  cache_dir: cache\nmodel:\n  preset: tiny\n", testutil.Path(t, "corpus"))), 0o644)
	out, _, err = runASR(t, nil, "eval", "--model", dir, "--backend", "go", "--config", cfg, "--split", "val", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Utterances != 2 || rep.Results[0].ID != "SYN-0002" || rep.Results[0].Reference != "the press was new" || !strings.Contains(rep.Data, "val split") {
		t.Errorf("report %+v", rep)
	}
}

func TestEvalErrors(t *testing.T) {
	folder := testutil.Path(t, "ljspeech")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "exactly one of"},
		{[]string{"--ljspeech", folder, "--manifest", "m.jsonl"}, "exactly one of"},
		{[]string{"--ljspeech", folder, "--split", "val"}, "--split goes with --config"},
		{[]string{"--config", "c.yaml", "--split", "dev"}, `--split "dev"`},
		{[]string{"--ljspeech", folder, "--worst", "-1"}, "must not be negative"},
		{[]string{"--ljspeech", filepath.Join(folder, "nope")}, "no such file"},
		{[]string{"--ljspeech", folder, "extra"}, "takes no arguments"},
	} {
		_, _, err := runASR(t, nil, append([]string{"eval"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("eval %q: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
