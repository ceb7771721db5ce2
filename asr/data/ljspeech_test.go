package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

func TestParseLJSpeech(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		ids   []string
		texts []string
		probs []string // "line:kind"
	}{
		{
			name:  "quotes are literal",
			in:    "LJ1|\"Hello,\" he said|\"Hello,\" he said\nLJ2|a \"b|a \"b\n",
			ids:   []string{"LJ1", "LJ2"},
			texts: []string{`"Hello," he said`, `a "b`},
		},
		{
			name: "crlf and bom",
			in:   "\ufeffLJ1|One|one\r\nLJ2|Two|two\r\n",
			ids:  []string{"LJ1", "LJ2"}, texts: []string{"one", "two"},
		},
		{
			name: "blank lines ignored, no final newline",
			in:   "LJ1|a|a\n\n   \nLJ2|b|b",
			ids:  []string{"LJ1", "LJ2"}, texts: []string{"a", "b"},
		},
		{
			name:  "short row and extra field",
			in:    "LJ1|a\nLJ2|b|b|extra\nLJ3|c|c\n",
			ids:   []string{"LJ3"},
			texts: []string{"c"},
			probs: []string{"1:" + string(ProblemMalformedRow), "2:" + string(ProblemMalformedRow)},
		},
		{
			name:  "empty normalized text",
			in:    "LJ1|a| \nLJ2|b|b\n",
			ids:   []string{"LJ2"},
			texts: []string{"b"},
			probs: []string{"1:" + string(ProblemEmptyText)},
		},
		{
			name:  "duplicate and unsafe ids",
			in:    "LJ1|a|a\nLJ1|b|b\n../x|c|c\n|d|d\n",
			ids:   []string{"LJ1"},
			texts: []string{"a"},
			probs: []string{"2:" + string(ProblemDuplicateID), "3:" + string(ProblemMalformedRow), "4:" + string(ProblemMalformedRow)},
		},
		{
			name:  "invalid utf-8",
			in:    "LJ1|a\xff|a\xff\n",
			probs: []string{"1:" + string(ProblemMalformedRow)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			utts, probs, err := ParseLJSpeech(strings.NewReader(tt.in), "metadata.csv")
			if err != nil {
				t.Fatal(err)
			}
			var ids, texts, ps []string
			for _, u := range utts {
				ids = append(ids, u.ID)
				texts = append(texts, u.Text)
			}
			for _, p := range probs {
				ps = append(ps, fmt.Sprintf("%d:%s", p.Line, p.Kind))
				if p.Source != "metadata.csv" || p.Detail == "" {
					t.Errorf("problem without source or detail: %+v", p)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.ids) || fmt.Sprint(texts) != fmt.Sprint(tt.texts) {
				t.Errorf("got ids %q texts %q, want %q %q", ids, texts, tt.ids, tt.texts)
			}
			if fmt.Sprint(ps) != fmt.Sprint(tt.probs) {
				t.Errorf("got problems %q, want %q", ps, tt.probs)
			}
		})
	}
}

func TestReadLJSpeechSample(t *testing.T) {
	dir := testutil.Path(t, "ljspeech")
	utts, probs, err := ReadLJSpeech(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 || len(utts) != 8 {
		t.Fatalf("got %d utterances and problems %v, want 8 and none", len(utts), probs)
	}
	if utts[0].ID != "LJ001-0001" || utts[0].Audio != filepath.Join(dir, "wavs", "LJ001-0001.wav") || utts[0].Line != 1 {
		t.Errorf("first utterance %+v", utts[0])
	}
	if !strings.HasPrefix(utts[1].Text, "in being comparatively modern.") {
		t.Errorf("second text %q", utts[1].Text)
	}
}

func TestReadLJSpeechMissingMetadata(t *testing.T) {
	_, _, err := ReadLJSpeech(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "metadata.csv") {
		t.Fatalf("err = %v, want one naming metadata.csv", err)
	}
	if !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err %v does not wrap fs.ErrNotExist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}
