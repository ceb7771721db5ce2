package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/eval"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/train"
)

func init() { commands = append(commands, evalCommand()) }

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "measure a model's word and character error rates and speed on a labelled set",
		Description: "Transcribes every utterance of a set and compares it with its reference (both\n" +
			"normalised as in training): corpus WER and CER with substitutions, deletions\n" +
			"and insertions, the real-time factor (transcription time, audio decoding\n" +
			"included, over audio duration), and the utterances with the highest WER,\n" +
			"aligned word by word in sclite's style (errors in upper case, *** for a missing\n" +
			"word). The set is one of:\n" +
			"  --config c.yaml [--split test]   a split of a training config's data (as asr train made it)\n" +
			"  --manifest m.jsonl               a NeMo-style JSONL manifest\n" +
			"  --ljspeech DIR                   an LJSpeech-format folder (metadata.csv, wavs/)\n" +
			"The model is --model, else (with --config) the config's run directory, else the\n" +
			"bundled model.\n\n" +
			"Examples:\n" +
			"  asr eval --model models/ljspeech --ljspeech testdata/ljspeech\n" +
			"  asr eval --config examples/configs/tiny-cpu.yaml --split val --json",
		Flags: append(recognizerFlags("model directory, checkpoint or run directory (`DIR`; default: the config's run directory, else the bundled model)"),
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "training config (YAML) whose data to evaluate on"},
			&cli.StringFlag{Name: "split", Value: "test", Usage: "with --config: the set to evaluate (train, val or test)"},
			&cli.StringFlag{Name: "manifest", Usage: "JSONL manifest to evaluate on"},
			&cli.StringFlag{Name: "ljspeech", Usage: "LJSpeech-format folder to evaluate on"},
			&cli.IntFlag{Name: "limit", Usage: "evaluate only the first `N` utterances (in id order)"},
			&cli.IntFlag{Name: "worst", Value: 5, Usage: "show the `N` utterances with the highest WER"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON, with every utterance"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar, even on a terminal"},
		),
		Action: evalAction,
	}
}

func evalAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("eval takes no arguments (got %q): name the set with --config, --manifest or --ljspeech", c.Args().Slice())
	}
	sources := 0
	for _, f := range []string{"config", "manifest", "ljspeech"} {
		if c.String(f) != "" {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("eval: give exactly one of --config (with --split), --manifest or --ljspeech")
	}
	if c.IsSet("split") && c.String("config") == "" {
		return errors.New("eval: --split goes with --config")
	}
	if c.Int("limit") < 0 || c.Int("worst") < 0 {
		return errors.New("eval: --limit and --worst must not be negative")
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	progress := progressWriter(c)

	utts, where, runDir, err := evalSet(ctx, c, progress)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if n := c.Int("limit"); n > 0 && n < len(utts) {
		utts = utts[:n]
	}
	if len(utts) == 0 {
		return fmt.Errorf("eval: %s holds no utterances", where)
	}
	if c.String("model") == "" && runDir != "" {
		if err := c.Set("model", runDir); err != nil {
			return err
		}
	}
	start := time.Now()
	rec, err := loadRecognizer(c)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer rec.Close()
	load := time.Since(start).Seconds()

	bar := newCountBar(progress, len(utts), "evaluating")
	rep, err := eval.Run(ctx, rec, utts, eval.Options{Progress: func(done, _ int) { bar.set(done) }, Logger: appLogger(c)})
	bar.close()
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep.Data, rep.LoadSeconds = where, load
	if c.Bool("json") {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c.App.Writer, "%s\n", b); err != nil {
			return err
		}
	} else if err := rep.WriteText(c.App.Writer, c.Int("worst")); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("eval: %d of %d utterances could not be transcribed", rep.Failed, len(utts))}
	}
	return nil
}

// evalSet reads the utterances to evaluate, sorted by id, and says where
// they come from; with --config it also returns the config's run directory.
func evalSet(ctx context.Context, c *cli.Context, progress io.Writer) (utts []eval.Utterance, where, runDir string, err error) {
	switch {
	case c.String("config") != "":
		path := c.String("config")
		split := data.Split(c.String("split"))
		if !slices.Contains(data.Splits, split) {
			return nil, "", "", fmt.Errorf("--split %q: want train, val or test", split)
		}
		cfg, err := train.LoadConfig(path)
		if err != nil {
			return nil, "", "", err
		}
		cfg = cfg.WithDefaults()
		utts, err = eval.ReadSplit(ctx, cfg.Datasets, data.Options{Features: cfg.Features, Subsampling: model.SubsamplingFactor, Progress: progress, Logger: appLogger(c)}, split)
		if err != nil {
			return nil, "", "", err
		}
		if checkpoint.IsRunDir(cfg.Checkpoint.Dir) {
			runDir = cfg.Checkpoint.Dir
		}
		return utts, fmt.Sprintf("%s (%s split)", path, split), runDir, nil
	case c.String("manifest") != "":
		where = c.String("manifest")
		utts, err = eval.ReadManifest(where)
	default:
		where = c.String("ljspeech")
		utts, err = eval.ReadLJSpeech(where)
	}
	return utts, where, "", err
}
