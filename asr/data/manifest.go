package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// manifestRow is one line of a JSONL manifest. NeMo writes "audio_filepath";
// "audio" is accepted as a shorter alias.
type manifestRow struct {
	ID            string   `json:"id"`
	Audio         string   `json:"audio"`
	AudioFilepath string   `json:"audio_filepath"`
	Text          *string  `json:"text"`
	Duration      *float64 `json:"duration"`
	Offset        float64  `json:"offset"`
	Speaker       string   `json:"speaker"`
	Corpus        string   `json:"corpus"`
}

// ReadManifest reads a JSONL manifest; see [ParseManifest].
func ReadManifest(path string) ([]Utterance, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	return ParseManifest(f, path)
}

// ParseManifest parses a NeMo-style JSONL manifest: one JSON object per line
// with the audio path ("audio_filepath", or "audio"), the transcript ("text")
// and optionally "duration" (seconds; informative only, the audio's real
// length is measured) and "id". Relative audio paths are relative to the
// manifest's folder (the folder of source). Without an "id", the id is the
// audio path relative to that folder, without its extension. Other fields
// are ignored, except a non-zero "offset" (clips cut from longer files), which
// is not supported and reported. Bad lines become Problems naming the line;
// the error is only for a failing reader.
func ParseManifest(r io.Reader, source string) ([]Utterance, []Problem, error) {
	base := filepath.Dir(source)
	var (
		utts  []Utterance
		probs []Problem
		seen  = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		p := Problem{Source: source, Line: line}
		var row manifestRow
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&row); err != nil {
			p.Kind, p.Detail = ProblemMalformedRow, fmt.Sprintf("not a JSON object: %v", err)
			probs = append(probs, p)
			continue
		}
		if dec.More() {
			p.Kind, p.Detail = ProblemMalformedRow, "more than one JSON value on the line"
			probs = append(probs, p)
			continue
		}
		audio := row.AudioFilepath
		if audio == "" {
			audio = row.Audio
		}
		id := row.ID
		if id == "" && audio != "" {
			rel := audio
			if filepath.IsAbs(rel) {
				if r, err := filepath.Rel(base, rel); err == nil && !strings.HasPrefix(r, "..") {
					rel = r
				}
			}
			id = filepath.ToSlash(strings.TrimSuffix(rel, filepath.Ext(rel)))
		}
		p.ID = id
		switch {
		case audio == "":
			p.Kind, p.Detail = ProblemMalformedRow, `no "audio_filepath" (or "audio") field`
		case strings.HasSuffix(audio, "/") || strings.HasSuffix(audio, string(filepath.Separator)) || filepath.Base(audio) == "." || filepath.Base(audio) == "..":
			p.Kind, p.Detail = ProblemMalformedRow, fmt.Sprintf("audio %q names a folder, not a file", audio)
		case id == "":
			p.Kind, p.Detail = ProblemMalformedRow, fmt.Sprintf("no id can be made from audio %q (give an \"id\" field)", audio)
		case row.Text == nil:
			p.Kind, p.Detail = ProblemMalformedRow, `no "text" field`
		case row.Offset != 0:
			p.Kind, p.Detail = ProblemMalformedRow, fmt.Sprintf(`"offset": %v is not supported (cut the clip into its own file)`, row.Offset)
		case row.Duration != nil && *row.Duration < 0:
			p.Kind, p.Detail = ProblemMalformedRow, fmt.Sprintf(`"duration": %v is negative`, *row.Duration)
		case !utf8.ValidString(*row.Text):
			p.Kind, p.Detail = ProblemMalformedRow, "text is not valid UTF-8"
		}
		if p.Kind == "" {
			if first, dup := seen[id]; dup {
				p.Kind, p.Detail = ProblemDuplicateID, fmt.Sprintf("id already used on line %d", first)
			} else if strings.TrimSpace(*row.Text) == "" {
				p.Kind, p.Detail = ProblemEmptyText, `"text" is empty`
			}
		}
		if p.Kind != "" {
			probs = append(probs, p)
			continue
		}
		seen[id] = line
		corpus := row.Corpus
		if corpus == "" {
			corpus = defaultCorpus(audio, source)
		}
		if !filepath.IsAbs(audio) {
			audio = filepath.Join(base, audio)
		}
		utts = append(utts, Utterance{ID: id, Audio: audio, Text: strings.TrimSpace(*row.Text), Speaker: row.Speaker, Corpus: corpus, Source: source, Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("manifest: reading %s: %w", source, err)
	}
	return utts, probs, nil
}

// defaultCorpus is the corpus of a manifest row without a "corpus" field: the
// first folder of its relative audio path, else the manifest's name.
func defaultCorpus(audio, manifest string) string {
	if !filepath.IsAbs(audio) {
		a := filepath.ToSlash(filepath.Clean(audio))
		if i := strings.IndexByte(a, '/'); i > 0 && a[:i] != ".." {
			return a[:i]
		}
	}
	name := filepath.Base(manifest)
	return strings.TrimSuffix(name, filepath.Ext(name))
}

// WriteManifest writes utterances as a JSONL manifest readable by
// ParseManifest (and by NeMo): audio paths relative to the manifest's folder
// when they lie under it.
func WriteManifest(w io.Writer, manifestPath string, utts []Utterance) error {
	base := filepath.Dir(manifestPath)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, u := range utts {
		audio := u.Audio
		if r, err := filepath.Rel(base, audio); err == nil && !strings.HasPrefix(r, "..") {
			audio = filepath.ToSlash(r)
		}
		row := struct {
			ID       string  `json:"id"`
			Audio    string  `json:"audio_filepath"`
			Text     string  `json:"text"`
			Duration float64 `json:"duration,omitempty"`
			Speaker  string  `json:"speaker,omitempty"`
			Corpus   string  `json:"corpus,omitempty"`
		}{u.ID, audio, u.Text, u.Duration, u.Speaker, u.Corpus}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}

func isValidUTF8(s string) bool { return utf8.ValidString(s) }
