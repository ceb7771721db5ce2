package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ReadLJSpeech reads the metadata of an LJSpeech-format corpus in dir
// (dir/metadata.csv, audio in dir/wavs/<id>.wav). It returns the well-formed
// rows and a Problem for each bad one; audio is not opened (see [Check]).
func ReadLJSpeech(dir string) ([]Utterance, []Problem, error) {
	meta := filepath.Join(dir, "metadata.csv")
	f, err := os.Open(meta)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("ljspeech: %s has no metadata.csv (an LJSpeech-format folder holds metadata.csv and wavs/): %w", dir, err)
		}
		return nil, nil, fmt.Errorf("ljspeech: %w", err)
	}
	defer f.Close()
	utts, probs, err := ParseLJSpeech(f, meta)
	if err != nil {
		return nil, nil, err
	}
	corpus := filepath.Base(filepath.Clean(dir))
	for i := range utts {
		utts[i].Audio = filepath.Join(dir, "wavs", utts[i].ID+".wav")
		utts[i].Corpus = corpus
	}
	return utts, probs, nil
}

// ParseLJSpeech parses LJSpeech metadata: one row per line, three fields
// separated by '|': id, transcription, normalised transcription. Quotes are
// literal characters (no CSV quoting). A UTF-8 byte-order mark and CRLF line
// endings are accepted; blank lines are ignored. Rows with too few or too many
// fields, an empty or unsafe id, a repeated id, invalid UTF-8 or an empty
// normalised transcription are returned as Problems naming source and line.
// Audio paths are left empty. The error is only for a failing reader.
func ParseLJSpeech(r io.Reader, source string) ([]Utterance, []Problem, error) {
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
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		s := string(b)
		fields := strings.Split(s, "|")
		id := strings.TrimSpace(fields[0])
		p := Problem{ID: id, Source: source, Line: line}
		if len(fields) != 3 {
			p.Kind = ProblemMalformedRow
			p.Detail = fmt.Sprintf("%d fields separated by '|', want 3 (id|transcription|normalized transcription)", len(fields))
			probs = append(probs, p)
			continue
		}
		if msg := checkID(id); msg != "" {
			p.Kind, p.Detail = ProblemMalformedRow, msg
			probs = append(probs, p)
			continue
		}
		if first, dup := seen[id]; dup {
			p.Kind, p.Detail = ProblemDuplicateID, fmt.Sprintf("id already used on line %d", first)
			probs = append(probs, p)
			continue
		}
		seen[id] = line
		if !isValidUTF8(s) {
			p.Kind, p.Detail = ProblemMalformedRow, "row is not valid UTF-8"
			probs = append(probs, p)
			continue
		}
		text := strings.TrimSpace(fields[2])
		if text == "" {
			p.Kind, p.Detail = ProblemEmptyText, "the normalized transcription (third field) is empty"
			probs = append(probs, p)
			continue
		}
		utts = append(utts, Utterance{ID: id, Text: text, Source: source, Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("ljspeech: reading %s: %w", source, err)
	}
	return utts, probs, nil
}

// CheckID returns an error when id cannot be the id of an LJSpeech-format
// clip: it must name a file in wavs/ (not empty, no path separator or NUL,
// not "." or ".."). Corpora written for this package (asr/synth) use it.
func CheckID(id string) error {
	if msg := checkID(id); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// checkID returns why id cannot name a file under wavs/, or "".
func checkID(id string) string {
	switch {
	case id == "":
		return "empty id"
	case strings.ContainsAny(id, "/\\\x00"), id == ".", id == "..":
		return fmt.Sprintf("id %q cannot name a file in wavs/", id)
	}
	return ""
}
