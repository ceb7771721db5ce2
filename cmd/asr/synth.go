package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr/synth"
)

// synthCommands are the subcommands of asr data that render synthetic
// corpora (package asr/synth).
func synthCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:  "synth",
			Usage: "render text lines into an LJSpeech-format corpus with espeak-ng, flite and festival",
			Description: "Texts files hold \"id|text\", \"id|text|normalized text\" or plain-text lines\n" +
				"(recipes/synthetic/{train,val,test}.txt). Every line is spoken by a voice drawn\n" +
				"evenly over the installed engines, with varied speed and pitch and optional\n" +
				"tempo, reverberation (sox), noise and gain; the result is the same for the same\n" +
				"seed. The output folder gets metadata.csv, wavs/ (22,050 Hz mono 16-bit),\n" +
				"lists/<texts file> (usable as datasets.split.lists), render.tsv and synth.json.\n" +
				"Interrupted runs resume. See recipes/synthetic/README.md.",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "texts", Usage: "texts file (repeat for several)", Required: true},
				&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "corpus folder to write", Required: true},
				&cli.StringSliceFlag{Name: "voices", Usage: "voices (engine:name, or an engine for all of its voices), comma-separated; default: every installed engine (see asr data voices)"},
				&cli.Uint64Flag{Name: "seed", Usage: "seed for voices and augmentation"},
				&cli.IntFlag{Name: "repeats", Value: 1, Usage: "render each line this many times with different voices"},
				&cli.IntFlag{Name: "limit", Usage: "render only the first N lines of each texts file"},
				&cli.StringFlag{Name: "speed", Value: "0.85:1.15", Usage: "speaking-rate factor range"},
				&cli.StringFlag{Name: "pitch", Value: "-2:2", Usage: "pitch shift range in semitones"},
				&cli.StringFlag{Name: "tempo", Value: "1", Usage: "sox tempo factor range (1: off)"},
				&cli.Float64Flag{Name: "reverb", Usage: "probability of room reverberation (sox)"},
				&cli.StringFlag{Name: "noise-snr", Value: "0", Usage: "SNR range in dB of added white/pink/brown noise (0: none)"},
				&cli.StringFlag{Name: "gain", Value: "-6:0", Usage: "level change range in dB"},
				&cli.IntFlag{Name: "workers", Usage: "clips rendered at once (0: one per core)"},
			},
			Action: dataSynth,
		},
		{
			Name:  "voices",
			Usage: "list the installed synthesiser voices that asr data synth uses by default",
			Action: func(c *cli.Context) error {
				found := false
				for _, e := range []string{synth.EngineEspeak, synth.EngineFlite, synth.EngineFestival} {
					vs, err := synth.InstalledVoices(c.Context, e)
					if err != nil {
						fmt.Fprintf(c.App.Writer, "%s: %v\n", e, err)
						continue
					}
					found = true
					names := make([]string, len(vs))
					for i, v := range vs {
						names[i] = v.Name
					}
					fmt.Fprintf(c.App.Writer, "%s (%d): %s\n", e, len(vs), strings.Join(names, " "))
				}
				if !found {
					return errors.New("no speech synthesiser is installed (Debian: apt-get install espeak-ng flite festival)")
				}
				return nil
			},
		},
	}
}

func dataSynth(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("data synth takes no arguments (use --texts), got %q", c.Args().Slice())
	}
	opt := synth.Options{
		Texts: c.StringSlice("texts"), Out: c.String("out"), Seed: c.Uint64("seed"),
		Repeats: c.Int("repeats"), Limit: c.Int("limit"), Reverb: c.Float64("reverb"), Workers: c.Int("workers"),
	}
	for _, v := range c.StringSlice("voices") {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				opt.Voices = append(opt.Voices, s)
			}
		}
	}
	var errs []error
	for _, r := range []struct {
		flag string
		dst  *synth.Range
		zero float64 // the neutral value, mapped to the zero Range
	}{{"speed", &opt.Speed, 1}, {"pitch", &opt.Pitch, 0}, {"tempo", &opt.Tempo, 1}, {"noise-snr", &opt.NoiseSNR, 0}, {"gain", &opt.Gain, 0}} {
		v, err := synth.ParseRange(c.String(r.flag))
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", r.flag, err))
			continue
		}
		if v.Min == r.zero && v.Max == r.zero {
			v = synth.Range{}
		}
		*r.dst = v
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		opt.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	start := time.Now()
	rep, err := synth.Synthesize(ctx, opt)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %d clips (%d rendered now, %.1f min of audio) in %s\n", opt.Out, rep.Utterances, rep.Rendered, rep.Seconds/60, time.Since(start).Round(time.Millisecond))
	names := make([]string, 0, len(rep.PerVoice))
	for n := range rep.PerVoice {
		names = append(names, n)
	}
	sort.Strings(names)
	engines := map[string]int{}
	for _, n := range names {
		engines[strings.SplitN(n, ":", 2)[0]] += rep.PerVoice[n]
	}
	fmt.Fprintf(&b, "voices: %d (", len(names))
	first := true
	for _, e := range []string{synth.EngineEspeak, synth.EngineFlite, synth.EngineFestival} {
		if engines[e] > 0 {
			if !first {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %d clips", e, engines[e])
			first = false
		}
	}
	b.WriteString(")\n")
	_, err = c.App.Writer.Write(b.Bytes())
	return err
}
