package eval

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/wer"
)

// Transcripts are texts by utterance id, in the order they were read.
type Transcripts struct {
	// IDs lists the ids in order.
	IDs []string
	// Text maps each id to its text (words separated by single spaces).
	Text map[string]string
}

// ReadTranscripts reads one utterance per line: "id<TAB>text", "id|text",
// or LJSpeech metadata rows "id|text|normalized text" (the last column is
// used). Blank lines are skipped; a byte-order mark and CR line ends are
// accepted. With normalize the texts are normalised like training
// transcripts (package asr/text); otherwise only their spacing is. name
// names the source in errors ("refs.tsv:12: ...").
func ReadTranscripts(r io.Reader, name string, normalize bool) (*Transcripts, error) {
	ts := &Transcripts{Text: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSuffix(strings.TrimPrefix(sc.Text(), "\ufeff"), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		var fields []string
		if id, t, ok := strings.Cut(s, "\t"); ok {
			fields = []string{id, t}
		} else {
			fields = strings.Split(s, "|")
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want \"id<TAB>text\" or \"id|text\", got %q", name, line, s)
		}
		id, t := strings.TrimSpace(fields[0]), fields[len(fields)-1]
		if _, dup := ts.Text[id]; dup {
			return nil, fmt.Errorf("%s:%d: id %q appears twice", name, line, id)
		}
		if normalize {
			t = text.Normalize(t)
		}
		ts.Text[id] = strings.Join(strings.Fields(t), " ")
		ts.IDs = append(ts.IDs, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ts, nil
}

// Scored is one utterance of a [Score].
type Scored struct {
	ID        string
	Alignment wer.Alignment
}

// ScoreReport is what [Score] measures: corpus rates and every utterance.
type ScoreReport struct {
	Utterances int     `json:"utterances"`
	WER        float64 `json:"wer"`
	CER        float64 `json:"cer"`
	RefWords   int     `json:"ref_words"`
	Subs       int     `json:"substitutions"`
	Dels       int     `json:"deletions"`
	Ins        int     `json:"insertions"`
	RefChars   int     `json:"ref_chars"`
	// Scored has every reference utterance, in the references' order.
	Scored []Scored `json:"-"`
}

// Score compares hypotheses with references by id, like sclite or jiwer:
// a reference without a hypothesis counts as an empty hypothesis (all
// deletions); a hypothesis without a reference is an error, since it
// could not be scored. Rates are corpus rates.
func Score(refs, hyps *Transcripts) (*ScoreReport, error) {
	for _, id := range hyps.IDs {
		if _, ok := refs.Text[id]; !ok {
			return nil, fmt.Errorf("id %q has no reference", id)
		}
	}
	var corpus wer.Corpus
	rep := &ScoreReport{}
	for _, id := range refs.IDs {
		rep.Scored = append(rep.Scored, Scored{ID: id, Alignment: corpus.Add(refs.Text[id], hyps.Text[id])})
	}
	w := corpus.Words
	rep.Utterances, rep.WER, rep.CER = corpus.Utterances, corpus.WER(), corpus.CER()
	rep.RefWords, rep.Subs, rep.Dels, rep.Ins, rep.RefChars = w.RefLen(), w.Subs, w.Dels, w.Ins, corpus.Chars.RefLen()
	return rep, nil
}

// WriteText writes the rates and, when worst > 0, that many utterances
// with the most word errors, aligned.
func (s *ScoreReport) WriteText(w io.Writer, worst int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "utterances %d\nwords %d\nWER %.2f%% (S %d, D %d, I %d)\nCER %.2f%%\n",
		s.Utterances, s.RefWords, 100*s.WER, s.Subs, s.Dels, s.Ins, 100*s.CER)
	if worst > 0 {
		all := slices.Clone(s.Scored)
		slices.SortStableFunc(all, func(a, b Scored) int { return b.Alignment.Counts.Errors() - a.Alignment.Counts.Errors() })
		for _, u := range all[:min(worst, len(all))] {
			r, h := u.Alignment.Pretty()
			fmt.Fprintf(&b, "\n%s (%d errors)\nREF: %s\nHYP: %s\n", u.ID, u.Alignment.Counts.Errors(), r, h)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
