package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/asrkit/asrkit/asr"
)

// ManifestOptions configures [TranscribeManifest].
type ManifestOptions struct {
	// Dir is the folder that relative audio paths are relative to: the
	// input manifest's folder (as data.ParseManifest reads them).
	Dir string
	// Source names the manifest in messages ("test.jsonl").
	Source string
	// Progress, when not nil, is called after each row with the number of
	// rows done.
	Progress func(done int)
}

// ManifestSummary counts what [TranscribeManifest] did.
type ManifestSummary struct {
	// Rows is the number of rows written; Failed, of them, the rows whose
	// audio could not be transcribed.
	Rows, Failed int
}

// TranscribeManifest transcribes every row of a NeMo-style JSONL manifest
// (one JSON object per line with "audio_filepath", or "audio") and writes
// each row to w, in order, with its fields as they were and a "pred_text"
// field holding the transcript (replacing one the row already had), as
// NeMo's transcribe_speech.py does. A row whose audio cannot be
// transcribed is written with an empty "pred_text" and an "error" field
// saying why, and counted in Failed; a line that is not a JSON object with
// an audio path stops the run with an error naming the line (nothing of a
// malformed manifest should pass as transcribed). Blank lines are skipped.
func TranscribeManifest(ctx context.Context, rec *asr.Recognizer, r io.Reader, w io.Writer, opts ManifestOptions) (ManifestSummary, error) {
	var sum ManifestSummary
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	bw := bufio.NewWriter(w)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			continue
		}
		keys, vals, err := parseObject(b)
		if err != nil {
			return sum, fmt.Errorf("%s:%d: %w", opts.Source, line, err)
		}
		audio := ""
		for _, k := range []string{"audio_filepath", "audio"} {
			if i := indexOf(keys, k); i >= 0 {
				if err := json.Unmarshal(vals[i], &audio); err != nil {
					return sum, fmt.Errorf("%s:%d: %q is not a string", opts.Source, line, k)
				}
				break
			}
		}
		if audio == "" {
			return sum, fmt.Errorf("%s:%d: no audio_filepath", opts.Source, line)
		}
		if !filepath.IsAbs(audio) {
			audio = filepath.Join(opts.Dir, audio)
		}
		res, terr := rec.TranscribeFile(ctx, audio)
		if terr != nil && ctx.Err() != nil {
			return sum, ctx.Err()
		}
		keys, vals = set(keys, vals, "pred_text", res.Text)
		if terr != nil {
			keys, vals = set(keys, vals, "error", terr.Error())
			sum.Failed++
		}
		if err := writeObject(bw, keys, vals); err != nil {
			return sum, err
		}
		sum.Rows++
		if opts.Progress != nil {
			opts.Progress(sum.Rows)
		}
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("%s: %w", opts.Source, err)
	}
	return sum, bw.Flush()
}

// parseObject splits a JSON object into its keys and raw values, in order.
func parseObject(b []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("not a JSON object: %w", err)
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("not a JSON object: %w", err)
		}
		if indexOf(keys, k) >= 0 {
			return nil, nil, fmt.Errorf("field %q appears twice", k)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("more than one JSON value on the line")
	}
	return keys, vals, nil
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

// set sets field k to the string v, in place or at the end.
func set(keys []string, vals []json.RawMessage, k, v string) ([]string, []json.RawMessage) {
	raw, _ := json.Marshal(v)
	if i := indexOf(keys, k); i >= 0 {
		vals[i] = raw
		return keys, vals
	}
	return append(keys, k), append(vals, raw)
}

// writeObject writes the fields as one JSON line.
func writeObject(w *bufio.Writer, keys []string, vals []json.RawMessage) error {
	w.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			w.WriteString(", ")
		}
		kb, _ := json.Marshal(k)
		w.Write(kb)
		w.WriteString(": ")
		var c bytes.Buffer
		if err := json.Compact(&c, vals[i]); err != nil {
			return err
		}
		w.Write(c.Bytes())
	}
	w.WriteString("}\n")
	return nil
}
