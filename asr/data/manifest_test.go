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
		`{"Audio": ".", "teXt": "a folder"}`,
		`{"audio": "wavs/", "text": "a folder"}`,
		`{"audio": ".wav", "text": "no name to make an id of"}`,
		`{"audio": ".wav", "text": "an id given", "id": "ok"}`,
	}, "\n")
	dir := filepath.FromSlash("/data/corpus")
	utts, probs, err := ParseManifest(strings.NewReader(in), filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(utts) != 3 {
		t.Fatalf("got %d utterances, want 3: %+v", len(utts), utts)
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
	want := []string{"4:malformed row", "5:malformed row", "6:malformed row", "7:empty text", "8:duplicate id", "9:malformed row", "10:malformed row", "11:malformed row", "12:malformed row", "13:malformed row"}
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

// FuzzParseRows feeds arbitrary text to both corpus parsers (JSONL
// manifests and LJSpeech's metadata.csv): never a panic; every utterance
// they accept has a transcript and an ID no other has (and, from a
// manifest, an audio path; ReadLJSpeech derives LJSpeech's from the ID),
// and every problem names a line of the input.
func FuzzParseRows(f *testing.F) {
	f.Add([]byte(`{"audio_filepath": "wavs/a.wav", "text": "hello", "duration": 1.5}` + "\n" + `{"audio": "b.flac", "text": "x", "id": "b"}`))
	f.Add([]byte("LJ001-0001|Printing, in the only sense|Printing, in the only sense\nLJ001-0002|in being comparatively modern.|in being comparatively modern.\n"))
	f.Add([]byte("a|b\n|||\n\xff\xfe|x|y\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for name, parse := range map[string]func() ([]Utterance, []Problem, error){
			"manifest": func() ([]Utterance, []Problem, error) { return ParseManifest(bytes.NewReader(in), "/c/m.jsonl") },
			"ljspeech": func() ([]Utterance, []Problem, error) { return ParseLJSpeech(bytes.NewReader(in), "/c/metadata.csv") },
		} {
			utts, probs, err := parse()
			if err != nil {
				continue
			}
			lines := bytes.Count(in, []byte("\n")) + 1
			ids := map[string]bool{}
			for _, u := range utts {
				if (name == "manifest" && u.Audio == "") || strings.TrimSpace(u.Text) == "" || u.ID == "" || ids[u.ID] {
					t.Fatalf("%s: accepted %+v", name, u)
				}
				ids[u.ID] = true
			}
			for _, p := range probs {
				if p.Line < 1 || p.Line > lines {
					t.Fatalf("%s: problem at line %d of %d: %+v", name, p.Line, lines, p)
				}
			}
		}
	})
}

func TestManifestSpeakerAndCorpus(t *testing.T) {
	in := strings.Join([]string{
		`{"audio": "speechocean762/SPEAKER0001/a.mp3", "text": "one", "speaker": "so762-0001"}`,
		`{"audio": "b.wav", "text": "two"}`,
		`{"audio": "/abs/c.wav", "text": "three", "corpus": "mine"}`,
		`{"audio": "/abs/d.wav", "text": "four"}`,
		`{"audio": "./e/f.wav", "text": "five"}`,
	}, "\n")
	utts, probs, err := ParseManifest(strings.NewReader(in), filepath.FromSlash("/data/real/train.jsonl"))
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	for i, want := range []struct{ speaker, corpus string }{
		{"so762-0001", "speechocean762"}, {"", "train"}, {"", "mine"}, {"", "train"}, {"", "e"},
	} {
		if utts[i].Speaker != want.speaker || utts[i].Corpus != want.corpus {
			t.Errorf("row %d: speaker %q corpus %q, want %q %q", i+1, utts[i].Speaker, utts[i].Corpus, want.speaker, want.corpus)
		}
	}
	// Both survive a round trip through WriteManifest.
	var b bytes.Buffer
	if err := WriteManifest(&b, filepath.FromSlash("/data/real/out.jsonl"), utts); err != nil {
		t.Fatal(err)
	}
	back, _, err := ParseManifest(&b, filepath.FromSlash("/data/real/out.jsonl"))
	if err != nil || len(back) != len(utts) {
		t.Fatal(err)
	}
	for i := range utts {
		if back[i].Speaker != utts[i].Speaker || back[i].Corpus != utts[i].Corpus {
			t.Errorf("row %d after a round trip: %+v", i+1, back[i])
		}
	}
}
