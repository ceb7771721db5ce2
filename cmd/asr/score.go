package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/eval"
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

func scoreAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("score needs two files, REF and HYP (got %d arguments)", c.NArg())
	}
	norm := !c.Bool("no-normalize")
	refPath, hypPath := c.Args().Get(0), c.Args().Get(1)
	refs, err := readTranscripts(c, refPath, norm)
	if err != nil {
		return err
	}
	hyps, err := readTranscripts(c, hypPath, norm)
	if err != nil {
		return err
	}
	rep, err := eval.Score(refs, hyps)
	if err != nil {
		return fmt.Errorf("%s: %w in %s", hypPath, err, refPath)
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(out, c.Int("worst"))
}

// readTranscripts reads a REF or HYP file ("-" is standard input).
func readTranscripts(c *cli.Context, path string, normalize bool) (*eval.Transcripts, error) {
	if path == "-" {
		r := c.App.Reader
		if r == nil {
			r = os.Stdin
		}
		return eval.ReadTranscripts(r, "standard input", normalize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return eval.ReadTranscripts(f, path, normalize)
}
