package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/lm"
)

func init() { commands = append(commands, lmCommand()) }

// lmCommand builds the "asr lm" command (a fresh value each call: urfave/cli
// changes a command as it runs it).
func lmCommand() *cli.Command {
	return &cli.Command{
		Name:  "lm",
		Usage: "build and evaluate word n-gram language models for beam search",
		Subcommands: []*cli.Command{
			{
				Name:      "build",
				Usage:     "estimate a modified Kneser-Ney n-gram model from text and write it in ARPA format",
				ArgsUsage: "TEXTS... (files, or - for standard input)",
				Description: "Each line of each TEXTS file is one sentence. Lines are normalised with the\n" +
					"same rules as training transcripts (lower case, numbers spelled out, punctuation\n" +
					"dropped: see the asr/text package) unless --no-normalize is given; with\n" +
					"--metadata, lines are LJSpeech metadata.csv rows (id|text|normalized text) and\n" +
					"the last column is used. The model is interpolated modified Kneser-Ney with\n" +
					"three discounts per order (as KenLM's lmplz); its vocabulary is every word of\n" +
					"the text plus <s>, </s> and <unk>, which gets the probability left for unseen\n" +
					"words. --eval reports perplexity on held-out text. An --out that exists is\n" +
					"replaced only with --force.",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "order", Aliases: []string{"n"}, Value: 3, Usage: "n-gram order"},
					&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "ARPA file to write (never one of the inputs; a device such as /dev/stdout is written into, not replaced)", Required: true},
					&cli.BoolFlag{Name: "force", Usage: "replace --out if it exists"},
					&cli.BoolFlag{Name: "metadata", Usage: "lines are id|text[|normalized text]; use the last column"},
					&cli.BoolFlag{Name: "no-normalize", Usage: "use lines as they are (already normalised, space-separated words)"},
					&cli.BoolFlag{Name: "discount-fallback", Usage: fmt.Sprintf("use discounts %v for orders with too little text to estimate them, instead of failing", lm.FallbackDiscounts)},
					&cli.StringSliceFlag{Name: "eval", Usage: "held-out text file to report perplexity on (same line format; repeatable)"},
				},
				Action: lmBuild,
			},
		},
	}
}

// lmLines calls fn with every sentence of the named files ("-" is stdin).
func lmLines(ctx context.Context, c *cli.Context, paths []string, fn func(words []string, where string) error) error {
	opts := lm.TextOptions{Metadata: c.Bool("metadata"), NoNormalize: c.Bool("no-normalize")}
	for _, p := range paths {
		if p == "-" {
			r := c.App.Reader
			if r == nil {
				r = os.Stdin
			}
			if err := lm.ReadSentences(ctx, r, "standard input", opts, fn); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = lm.ReadSentences(ctx, f, p, opts, fn)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func lmBuild(c *cli.Context) error {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return errors.New("lm build: name at least one text file (or - for standard input)")
	}
	out := c.String("out")
	if err := checkOutput(out, append(slices.Clone(paths), c.StringSlice("eval")...), c.Bool("force")); err != nil {
		if errors.Is(err, errExists) {
			return fmt.Errorf("lm build: %s already exists; give --force to replace it", out)
		}
		return fmt.Errorf("lm build: --out: %w", err)
	}
	est, err := lm.NewEstimator(c.Int("order"))
	if err != nil {
		return err
	}
	err = lmLines(ctx, c, paths, func(words []string, where string) error {
		if err := est.AddSentence(words); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("lm build: %w", err)
	}
	var opts lm.BuildOptions
	if c.Bool("discount-fallback") {
		fb := lm.FallbackDiscounts
		opts.DiscountFallback = &fb
	}
	model, info, err := est.Build(opts)
	if err != nil {
		if errors.Is(err, lm.ErrDiscounts) {
			return fmt.Errorf("lm build: %w; add --discount-fallback or more text", err)
		}
		return fmt.Errorf("lm build: %w", err)
	}
	if err := writeOutput(out, c.Bool("force"), func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := model.WriteARPA(bw); err != nil {
			return err
		}
		return bw.Flush()
	}); err != nil {
		return fmt.Errorf("lm build: %w", err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%d sentences, %d words, vocabulary %d (with <s>, </s>, <unk>)\n", info.Sentences, info.Tokens, model.VocabularySize())
	for n, cnt := range model.Counts() {
		d := info.Discounts[n]
		note := ""
		if info.Fallback[n] {
			note = " (fallback)"
		}
		fmt.Fprintf(w, "%d-grams: %d, discounts D1 %.4f D2 %.4f D3+ %.4f%s\n", n+1, cnt, d[0], d[1], d[2], note)
	}
	fmt.Fprintf(w, "wrote %s\n", out)
	for _, p := range c.StringSlice("eval") {
		var sents [][]string
		oov, words := 0, 0
		err := lmLines(ctx, c, []string{p}, func(ws []string, _ string) error {
			sents = append(sents, ws)
			for _, x := range ws {
				words++
				if !model.Contains(x) {
					oov++
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("lm build: --eval: %w", err)
		}
		if len(sents) == 0 {
			return fmt.Errorf("lm build: --eval %s: no sentences", p)
		}
		fmt.Fprintf(w, "%s: perplexity %.1f over %d sentences, %d words (%.2f%% out of vocabulary, scored as <unk>)\n",
			p, model.Perplexity(sents), len(sents), words, 100*float64(oov)/float64(words))
	}
	return nil
}
