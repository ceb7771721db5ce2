package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr"
)

// recognizerFlags are the flags that choose and configure the model, shared
// by transcribe and eval.
func recognizerFlags(modelUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: modelUsage},
		&cli.StringFlag{Name: "backend", Usage: "compute backend: auto, go, xla:cuda or xla:/abs/plugin.so (default: $GOMLX_BACKEND, else auto)"},
		&cli.IntFlag{Name: "beam", Usage: "beam search with `N` prefixes, at most 1024 (0: as the model directory says, else greedy; 1: greedy; 8 with --lm)"},
		&cli.StringFlag{Name: "lm", Usage: "fuse an ARPA word n-gram language model (`FILE`, e.g. from asr lm build) into beam search, instead of the model's own"},
		&cli.BoolFlag{Name: "no-lm", Usage: "decode without the language model the model directory carries (greedy unless --beam)"},
		&cli.Float64Flag{Name: "lm-weight", Usage: "weight of the language model's log-probabilities, --lm's or the model's own (0: 0.5)"},
		&cli.Float64Flag{Name: "word-bonus", Usage: "log-probability bonus per word (with an LM, 0.5-2 offsets the LM's cost per word)"},
	}
}

// recognizerOptions turns the recogniser flags into asr.Options.
func recognizerOptions(c *cli.Context) *asr.Options {
	return &asr.Options{
		Backend: c.String("backend"),
		Decoding: asr.DecodingOptions{
			Beam: c.Int("beam"), LM: c.String("lm"), NoLM: c.Bool("no-lm"),
			LMWeight: c.Float64("lm-weight"), WordBonus: c.Float64("word-bonus"),
		},
		Logger: appLogger(c),
	}
}

// loadRecognizer loads the model named by --model, or the bundled one.
func loadRecognizer(c *cli.Context) (*asr.Recognizer, error) {
	opts := recognizerOptions(c)
	if dir := c.String("model"); dir != "" {
		return asr.Load(dir, opts)
	}
	r, err := asr.LoadDefault(opts)
	if errors.Is(err, asr.ErrNoBundledModel) {
		return nil, errors.New("this build of asr has no bundled model: give --model DIR (a model directory from asr export, or a run directory)")
	}
	return r, err
}
