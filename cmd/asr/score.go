package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/wer"
)

func init() { commands = append(commands, scoreCommand()) }

func scoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "word and character error rates of hypotheses against references (like sclite or jiwer)",
		ArgsUsage: "REF HYP",
		Description: "REF and HYP hold one utterance per line: \"id<TAB>text\" or \"id|text\", or LJSpeech\n" +
			"metadata rows \"id|text|normalized text\" (the last column is used). Utterances are\n" +
			"matched by id; an id in REF without a line in HYP counts as an empty hypothesis, an id\n" +
			"only in HYP is an error. Both sides are normalised like training transcripts (lower\n" +
			"case, numbers spelled out, punctuation dropped: package asr/text) unless\n" +
			"--no-normalize is given. Rates are corpus-level: substitutions, deletions and\n" +
			"insertions are summed over all utterances before dividing.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-normalize", Usage: "compare the texts as they are (space-separated words)"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.IntFlag{Name: "worst", Value: 0, Usage: "also print the N utterances with the most word errors, aligned"},
		},
		Action: scoreAction,
	}
}

// scoreResult is the JSON form of asr score's output.
type scoreResult struct {
	Utterances int     `json:"utterances"`
	WER        float64 `json:"wer"`
	CER        float64 `json:"cer"`
	RefWords   int     `json:"ref_words"`
	Subs       int     `json:"substitutions"`
	Dels       int     `json:"deletions"`
	Ins        int     `json:"insertions"`
	RefChars   int     `json:"ref_chars"`
}

func scoreAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("score needs two files, REF and HYP (got %d arguments)", c.NArg())
	}
	norm := !c.Bool("no-normalize")
	refs, order, err := readScoreFile(c.Args().Get(0), norm)
	if err != nil {
		return err
	}
	hyps, _, err := readScoreFile(c.Args().Get(1), norm)
	if err != nil {
		return err
	}
	for id := range hyps {
		if _, ok := refs[id]; !ok {
			return fmt.Errorf("%s: id %q has no reference in %s", c.Args().Get(1), id, c.Args().Get(0))
		}
	}
	type scored struct {
		id  string
		al  wer.Alignment
		err int
	}
	var corpus wer.Corpus
	var all []scored
	for _, id := range order {
		al := corpus.Add(refs[id], hyps[id])
		all = append(all, scored{id, al, al.Counts.Errors()})
	}
	w := corpus.Words
	res := scoreResult{
		Utterances: corpus.Utterances, WER: corpus.WER(), CER: corpus.CER(),
		RefWords: w.RefLen(), Subs: w.Subs, Dels: w.Dels, Ins: w.Ins, RefChars: corpus.Chars.RefLen(),
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(out, "utterances %d\nwords %d\nWER %.2f%% (S %d, D %d, I %d)\nCER %.2f%%\n",
		res.Utterances, res.RefWords, 100*res.WER, res.Subs, res.Dels, res.Ins, 100*res.CER)
	if n := c.Int("worst"); n > 0 {
		sort.SliceStable(all, func(i, j int) bool { return all[i].err > all[j].err })
		for _, s := range all[:min(n, len(all))] {
			r, h := s.al.Pretty()
			fmt.Fprintf(out, "\n%s (%d errors)\nREF: %s\nHYP: %s\n", s.id, s.err, r, h)
		}
	}
	return nil
}

// readScoreFile reads "id<TAB>text", "id|text" or "id|text|normalized" lines.
func readScoreFile(path string, normalize bool) (map[string]string, []string, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		r = f
	}
	texts := map[string]string{}
	var order []string
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
			return nil, nil, fmt.Errorf("%s:%d: want \"id<TAB>text\" or \"id|text\", got %q", path, line, s)
		}
		id, t := strings.TrimSpace(fields[0]), fields[len(fields)-1]
		if _, dup := texts[id]; dup {
			return nil, nil, fmt.Errorf("%s:%d: id %q appears twice", path, line, id)
		}
		if normalize {
			t = text.Normalize(t)
		}
		texts[id] = strings.Join(strings.Fields(t), " ")
		order = append(order, id)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return texts, order, nil
}
