package data

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	in := strings.Join([]string{
		`{"audio_filepath": "wavs/a.wav", "text": "hello", "duration": 1.5}`,
		`{"audio": "/abs/b.flac", "text": "world", "id": "bee"}`,
		``,
		`not json`,
		`{"audio_filepath": "c.wav"}`,
		`{"text": "no audio"}`,
		`{"audio_filepath": "d.wav", "text": "  "}`,
		`{"audio_filepath": "wavs/a.wav", "text": "again"}`,
		`{"audio_filepath": "e.wav", "text": "cut", "offset": 2.0}`,
		`{"audio_filepath": "f.wav", "text": "x"} {"more": 1}`,
	}, "\n")
	dir := filepath.FromSlash("/data/corpus")
	utts, probs, err := ParseManifest(strings.NewReader(in), filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(utts) != 2 {
		t.Fatalf("got %d utterances, want 2: %+v", len(utts), utts)
	}
	if utts[0].ID != "wavs/a" || utts[0].Audio != filepath.Join(dir, "wavs", "a.wav") || utts[0].Text != "hello" || utts[0].Line != 1 {
		t.Errorf("first: %+v", utts[0])
	}
	if utts[1].ID != "bee" || utts[1].Audio != "/abs/b.flac" {
		t.Errorf("second: %+v", utts[1])
	}
	var got []string
	for _, p := range probs {
		got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Kind))
	}
	want := []string{"4:malformed row", "5:malformed row", "6:malformed row", "7:empty text", "8:duplicate id", "9:malformed row", "10:malformed row"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

func TestWriteManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	mpath := filepath.Join(dir, "m.jsonl")
	in := []Utterance{
		{ID: "a", Audio: filepath.Join(dir, "wavs", "a.wav"), Text: `say "hi"`, Duration: 1.25},
		{ID: "b", Audio: "/elsewhere/b.wav", Text: "b"},
	}
	var buf bytes.Buffer
	if err := WriteManifest(&buf, mpath, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"audio_filepath":"wavs/a.wav"`) {
		t.Errorf("relative path not written: %s", buf.String())
	}
	out, probs, err := ParseManifest(&buf, mpath)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	for i := range in {
		if out[i].ID != in[i].ID || out[i].Audio != in[i].Audio || out[i].Text != in[i].Text {
			t.Errorf("round trip %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
}
