package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr/data"
)

func init() {
	source := []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "training config (YAML); its datasets: and features: sections are used"},
		&cli.StringFlag{Name: "ljspeech", Usage: "LJSpeech-format folder (instead of, or overriding, datasets.ljspeech.path)"},
		&cli.StringFlag{Name: "manifest", Usage: "JSONL manifest to check (instead of the config's datasets)"},
		&cli.StringFlag{Name: "cache-dir", Usage: "feature cache folder (overrides datasets.cache_dir)"},
		&cli.IntFlag{Name: "subsampling", Value: data.DefaultSubsampling, Usage: "the model's time subsampling, for the too-short-for-CTC check"},
		&cli.BoolFlag{Name: "skip-invalid", Usage: "leave invalid utterances out (datasets.skip_invalid: true) instead of failing"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
	}
	commands = append(commands, &cli.Command{
		Name:  "data",
		Usage: "check datasets, build the feature cache, render synthetic corpora",
		Subcommands: append([]*cli.Command{
			{
				Name:      "check",
				Usage:     "print the dataset report (counts, hours, durations, every invalid item) without training",
				ArgsUsage: "[LJSpeech folder | manifest.jsonl]",
				Description: "Reads the corpus named by --config (datasets:), --ljspeech, --manifest or the\n" +
					"argument, decodes every audio file (or reads its length from an intact cache\n" +
					"entry) and checks every transcript. Writes nothing. Exits with status 1 when the\n" +
					"corpus has invalid items and skip_invalid is off, as training would stop.",
				Flags: source,
				Action: func(c *cli.Context) error {
					return dataCheck(c, false)
				},
			},
			{
				Name:      "prepare",
				Usage:     "check a dataset, write its split, build its feature cache and normalisation statistics",
				ArgsUsage: "[LJSpeech folder | manifest.jsonl]",
				Description: "Does what training does before its first step, and prints the report and a\n" +
					"per-stage profile of the cache build. A second run reuses the cache; a change\n" +
					"of the features: section builds a new one.",
				Flags: source,
				Action: func(c *cli.Context) error {
					return dataCheck(c, true)
				},
			},
		}, synthCommands()...),
	})
}

func dataCheck(c *cli.Context, build bool) error {
	var f data.ConfigFile
	if p := c.String("config"); p != "" {
		var err error
		if f, err = data.LoadConfigFile(p); err != nil {
			return err
		}
	}
	arg := c.Args().First()
	if c.NArg() > 1 {
		return fmt.Errorf("expected at most one corpus argument, got %q", c.Args().Slice())
	}
	ljs, manifest := c.String("ljspeech"), c.String("manifest")
	if arg != "" {
		if strings.HasSuffix(arg, ".jsonl") || strings.HasSuffix(arg, ".json") {
			manifest = arg
		} else {
			ljs = arg
		}
	}
	switch {
	case ljs != "" && manifest != "":
		return errors.New("give an LJSpeech folder or a manifest, not both")
	case ljs != "":
		f.Datasets.LJSpeech.Path, f.Datasets.Manifests = ljs, data.ManifestConfig{}
	case manifest != "":
		f.Datasets.LJSpeech.Path, f.Datasets.Manifests = "", data.ManifestConfig{Train: manifest}
	case c.String("config") == "":
		return errors.New("name a corpus: --config config.yaml, --ljspeech DIR, --manifest FILE, or a folder argument")
	}
	if d := c.String("cache-dir"); d != "" {
		f.Datasets.CacheDir = d
	}
	if c.Bool("skip-invalid") {
		f.Datasets.SkipInvalid = true
	}
	opts := data.Options{Features: f.Features, Subsampling: c.Int("subsampling"), Logger: appLogger(c)}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		opts.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	w := c.App.Writer
	var (
		rep *data.Report
		ds  *data.Dataset
		err error
	)
	if build {
		ds, err = data.Prepare(ctx, f.Datasets, opts)
		if ds != nil {
			rep = ds.Report
		}
	} else {
		rep, err = data.Check(ctx, f.Datasets, opts)
	}
	if rep == nil {
		return err
	}
	if c.Bool("json") {
		out := map[string]any{"report": rep}
		if ds != nil {
			out["cache"] = ds.Cache().Dir()
			out["build"] = ds.Build
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if e := enc.Encode(out); e != nil {
			return e
		}
	} else {
		if e := rep.WriteText(w); e != nil {
			return e
		}
		if ds != nil {
			writeBuild(w, ds)
		}
	}
	if err == nil {
		err = rep.Err()
	}
	if err != nil && errors.Is(err, data.ErrInvalidData) {
		n := len(rep.Problems)
		return &exitError{code: 1, err: fmt.Errorf("%d invalid item(s): training would stop; fix them or set datasets.skip_invalid: true (--skip-invalid)", n)}
	}
	return err
}

func writeBuild(w io.Writer, ds *data.Dataset) {
	b := ds.Build
	fmt.Fprintf(w, "cache:      %s\n", ds.Cache().Dir())
	fmt.Fprintf(w, "build:      %d entries: %d computed (%d stale, %d corrupt), %d reused",
		b.Utterances, b.Computed, b.Stale, b.Corrupt, b.Reused)
	if b.Augmented > 0 {
		fmt.Fprintf(w, ", %d augmented copies computed", b.Augmented)
	}
	fmt.Fprintf(w, ", in %s", b.Wall.Round(time.Millisecond))
	if b.Computed > 0 && b.Wall > 0 {
		fmt.Fprintf(w, " (%.0fx real time)", b.AudioSeconds/b.Wall.Seconds())
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	stages := []struct {
		name string
		d    time.Duration
	}{{"verify", b.Verify}, {"decode", b.Decode}, {"resample", b.Resample}, {"log-mel", b.LogMel}, {"write", b.Write}}
	var total time.Duration
	for _, s := range stages {
		total += s.d
	}
	fmt.Fprintln(tw, "  stage\tCPU time\tshare\t")
	for _, s := range stages {
		share := 0.0
		if total > 0 {
			share = 100 * s.d.Seconds() / total.Seconds()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.1f%%\t\n", s.name, s.d.Round(time.Millisecond), share)
	}
	tw.Flush()
	if b.Stats > 0 {
		fmt.Fprintf(w, "statistics: computed from the training split in %s\n", b.Stats.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "normalization: %d bands (mean of band 0 %.3f, std %.3f)\n", len(ds.Normalization.Mean), first(ds.Normalization.Mean), first(ds.Normalization.Std))
}

func first(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return x[0]
}
