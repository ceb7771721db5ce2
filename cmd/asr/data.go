package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/strictyaml"
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

// dataFile is the part of a training config that the data commands read.
type dataFile struct {
	Datasets data.Config     `yaml:"datasets"`
	Features features.Config `yaml:"features"`
}

// loadDataConfig reads the datasets: and features: sections of a training
// config strictly (unknown keys inside them are errors with file:line) and
// resolves relative paths against the config's folder. Other top-level
// sections belong to the trainer and are blanked out line by line, so line
// numbers in errors stay right.
func loadDataConfig(path string) (dataFile, error) {
	var out dataFile
	raw, err := os.ReadFile(path)
	if err != nil {
		return out, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return out, strictyaml.Decode(raw, path, &out) // reports the syntax error
	}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		lines := strings.SplitAfter(string(raw), "\n")
		type span struct {
			key        string
			start, end int // 0-based line range [start, end)
		}
		var spans []span
		for i := 0; i+1 < len(m.Content); i += 2 {
			spans = append(spans, span{key: m.Content[i].Value, start: m.Content[i].Line - 1})
		}
		for i := range spans {
			spans[i].end = len(lines)
			if i+1 < len(spans) {
				spans[i].end = spans[i+1].start
			}
		}
		flow := false
		for _, s := range spans {
			if s.start < 0 || s.start >= len(lines) || !strings.HasPrefix(strings.TrimLeft(lines[s.start], "\"'"), s.key) {
				flow = true // not one key per line: decode as it is
			}
		}
		if !flow {
			for _, s := range spans {
				if s.key == "datasets" || s.key == "features" {
					continue
				}
				for l := s.start; l < s.end; l++ {
					lines[l] = "\n"
				}
			}
			raw = []byte(strings.Join(lines, ""))
		}
	}
	if err := strictyaml.Decode(raw, path, &out); err != nil {
		return out, err
	}
	out.Datasets = out.Datasets.ResolvePaths(filepath.Dir(path))
	return out, nil
}

func dataCheck(c *cli.Context, build bool) error {
	var f dataFile
	if p := c.String("config"); p != "" {
		var err error
		if f, err = loadDataConfig(p); err != nil {
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
	opts := data.Options{Features: f.Features, Subsampling: c.Int("subsampling"), Logger: slog.Default()}
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
