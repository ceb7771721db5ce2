package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/train"
	"github.com/asrkit/asrkit/asr/wer"
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

// evalUtterance is one utterance to evaluate.
type evalUtterance struct {
	ID, Audio, Reference string
}

// evalCounts are wer.Counts in the JSON report.
type evalCounts struct {
	Hits int `json:"hits"`
	Subs int `json:"substitutions"`
	Dels int `json:"deletions"`
	Ins  int `json:"insertions"`
}

func countsOf(c wer.Counts) evalCounts { return evalCounts{c.Hits, c.Subs, c.Dels, c.Ins} }

// evalResult is one evaluated utterance.
type evalResult struct {
	ID         string     `json:"id"`
	Audio      string     `json:"audio"`
	Reference  string     `json:"reference"`
	Hypothesis string     `json:"hypothesis"`
	WER        float64    `json:"wer"`
	Words      evalCounts `json:"words"`
	Seconds    float64    `json:"seconds"` // audio duration
	Elapsed    float64    `json:"elapsed"` // transcription time
	AlignedRef string     `json:"aligned_reference"`
	AlignedHyp string     `json:"aligned_hypothesis"`
	Error      string     `json:"error,omitempty"`
	errors     int
}

// evalReport is the whole evaluation.
type evalReport struct {
	Model        string       `json:"model"`
	Step         int64        `json:"step"`
	Preset       string       `json:"preset"`
	Parameters   int          `json:"parameters"`
	Backend      string       `json:"backend"`
	Decoder      string       `json:"decoder"`
	Data         string       `json:"data"`
	Utterances   int          `json:"utterances"`
	Failed       int          `json:"failed"`
	AudioSeconds float64      `json:"audio_seconds"`
	WER          float64      `json:"wer"`
	CER          float64      `json:"cer"`
	Words        evalCounts   `json:"words"`
	Chars        evalCounts   `json:"chars"`
	WithErrors   int          `json:"utterances_with_errors"`
	Elapsed      float64      `json:"elapsed"`
	RTF          float64      `json:"rtf"`
	LoadSeconds  float64      `json:"load_seconds"`
	Worst        []evalResult `json:"-"`
	Results      []evalResult `json:"results"`
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
	stderr := c.App.ErrWriter
	if stderr == nil {
		stderr = os.Stderr
	}
	var progress io.Writer
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.Bool("no-progress") {
		progress = f
	}

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
	rep := &evalReport{Data: where, LoadSeconds: time.Since(start).Seconds()}
	info := rec.Info()
	rep.Model, rep.Backend, rep.Decoder = info.Dir, info.Backend, info.Decoder
	if rep.Model == "" {
		rep.Model = "bundled"
	}
	rep.Step, rep.Preset, rep.Parameters = info.Manifest.Step, info.Manifest.Model.Preset, info.Manifest.Model.NumParameters()

	if err := evaluate(ctx, rec, utts, rep, stderr, progress); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if c.Bool("json") {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s\n", b)
	} else {
		writeEvalReport(c.App.Writer, rep, c.Int("worst"))
	}
	if rep.Failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("eval: %d of %d utterances could not be transcribed", rep.Failed, len(utts))}
	}
	return nil
}

// evalSet reads the utterances to evaluate, sorted by id, and says where
// they come from; with --config it also returns the config's run directory.
func evalSet(ctx context.Context, c *cli.Context, progress io.Writer) (utts []evalUtterance, where, runDir string, err error) {
	var list []data.Utterance
	var problems []data.Problem
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
		ds, err := data.Prepare(ctx, cfg.Datasets, data.Options{Features: cfg.Features, Subsampling: model.SubsamplingFactor, Progress: progress})
		if err != nil {
			return nil, "", "", err
		}
		list = ds.Utterances(split)
		where = fmt.Sprintf("%s (%s split)", path, split)
		if checkpoint.IsRunDir(cfg.Checkpoint.Dir) {
			runDir = cfg.Checkpoint.Dir
		}
	case c.String("manifest") != "":
		where = c.String("manifest")
		list, problems, err = data.ReadManifest(where)
	default:
		where = c.String("ljspeech")
		list, problems, err = data.ReadLJSpeech(where)
	}
	if err != nil {
		return nil, "", "", err
	}
	if len(problems) > 0 {
		var lines []string
		for _, p := range problems {
			lines = append(lines, p.String())
		}
		return nil, "", "", fmt.Errorf("%s has %d invalid rows:\n  %s", where, len(problems), strings.Join(lines, "\n  "))
	}
	for _, u := range list {
		ref := u.Target
		if ref == "" {
			ref = text.Normalize(u.Text)
		}
		utts = append(utts, evalUtterance{ID: u.ID, Audio: u.Audio, Reference: ref})
	}
	slices.SortFunc(utts, func(a, b evalUtterance) int { return strings.Compare(a.ID, b.ID) })
	return utts, where, runDir, nil
}

// evaluate transcribes every utterance and fills the report. An utterance
// that cannot be transcribed is reported on stderr and counted as failed.
func evaluate(ctx context.Context, rec *asr.Recognizer, utts []evalUtterance, rep *evalReport, stderr, progress io.Writer) error {
	var bar *progressbar.ProgressBar
	if progress != nil {
		bar = progressbar.NewOptions(len(utts), progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription("evaluating"),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond))
		defer bar.Exit()
	}
	var corpus wer.Corpus
	for _, u := range utts {
		start := time.Now()
		res, err := rec.TranscribeFile(ctx, u.Audio)
		elapsed := time.Since(start).Seconds()
		if bar != nil {
			bar.Add(1)
		}
		r := evalResult{ID: u.ID, Audio: u.Audio, Reference: u.Reference, Elapsed: elapsed}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(stderr, "asr: eval: %s: %s\n", u.ID, withoutPrefix(err))
			r.Error = err.Error()
			rep.Failed++
			rep.Results = append(rep.Results, r)
			continue
		}
		hyp := text.Normalize(res.Text)
		a := corpus.Add(u.Reference, hyp)
		r.Hypothesis, r.WER, r.Words, r.errors = hyp, a.ErrorRate(), countsOf(a.Counts), a.Errors()
		r.Seconds = res.Duration.Seconds()
		r.AlignedRef, r.AlignedHyp = a.Pretty()
		rep.AudioSeconds += r.Seconds
		rep.Elapsed += elapsed
		rep.Results = append(rep.Results, r)
	}
	rep.Utterances = corpus.Utterances
	rep.WER, rep.CER = corpus.WER(), corpus.CER()
	rep.Words, rep.Chars = countsOf(corpus.Words), countsOf(corpus.Chars)
	rep.WithErrors = corpus.WithErrors
	if rep.AudioSeconds > 0 {
		rep.RTF = rep.Elapsed / rep.AudioSeconds
	}
	for _, r := range rep.Results {
		if r.Error == "" && r.errors > 0 {
			rep.Worst = append(rep.Worst, r)
		}
	}
	slices.SortStableFunc(rep.Worst, func(a, b evalResult) int {
		if a.WER != b.WER {
			if a.WER > b.WER {
				return -1
			}
			return 1
		}
		return b.errors - a.errors
	})
	return nil
}

func writeEvalReport(w io.Writer, r *evalReport, worst int) {
	errs := func(c evalCounts) int { return c.Subs + c.Dels + c.Ins }
	fmt.Fprintf(w, "model:    %s (%s, %d parameters, step %d); backend %s; %s decoding\n", r.Model, r.Preset, r.Parameters, r.Step, r.Backend, r.Decoder)
	fmt.Fprintf(w, "data:     %s: %d utterances, %.1f s of audio", r.Data, r.Utterances, r.AudioSeconds)
	if r.Failed > 0 {
		fmt.Fprintf(w, " (%d more failed)", r.Failed)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "WER:      %.2f%% (%d errors in %d words: %d substitutions, %d deletions, %d insertions)\n",
		100*r.WER, errs(r.Words), r.Words.Hits+r.Words.Subs+r.Words.Dels, r.Words.Subs, r.Words.Dels, r.Words.Ins)
	fmt.Fprintf(w, "CER:      %.2f%% (%d errors in %d characters: %d substitutions, %d deletions, %d insertions)\n",
		100*r.CER, errs(r.Chars), r.Chars.Hits+r.Chars.Subs+r.Chars.Dels, r.Chars.Subs, r.Chars.Dels, r.Chars.Ins)
	fmt.Fprintf(w, "speed:    %.2f s for %.1f s of audio: RTF %.4f (model load %.2f s)\n", r.Elapsed, r.AudioSeconds, r.RTF, r.LoadSeconds)
	fmt.Fprintf(w, "errors:   %d of %d utterances have at least one word error\n", r.WithErrors, r.Utterances)
	if worst == 0 || len(r.Worst) == 0 {
		return
	}
	n := min(worst, len(r.Worst))
	fmt.Fprintf(w, "\nthe %d utterances with the highest WER:\n", n)
	for _, u := range r.Worst[:n] {
		fmt.Fprintf(w, "\n%s  %s  %.1f s  WER %.1f%% (S %d, D %d, I %d)\n", u.ID, filepath.Base(u.Audio), u.Seconds, 100*u.WER, u.Words.Subs, u.Words.Dels, u.Words.Ins)
		fmt.Fprintf(w, "  REF: %s\n  HYP: %s\n", u.AlignedRef, u.AlignedHyp)
	}
}
