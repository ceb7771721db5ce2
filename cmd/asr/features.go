package main

import (
	"bufio"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/features"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:      "features",
		Usage:     "compute log-mel features of an audio file: a spectrogram picture, a .npy matrix or a summary",
		ArgsUsage: "FILE (WAV, FLAC or MP3; - for standard input)",
		Description: "Decodes FILE (any WAV, FLAC or MP3; the format is read from its content),\n" +
			"mixes it to mono, resamples it to 16 kHz and computes the model's log-mel\n" +
			"features (80 Slaney mel bands, 25 ms window, 10 ms hop, natural log, before\n" +
			"normalisation). --png draws them as a spectrogram (time in seconds across,\n" +
			"frequency in Hz up, colour in dB); --out writes the (frames × bands) float32\n" +
			"matrix in NumPy's .npy format. Without either, prints a summary.\n\n" +
			"Examples:\n" +
			"  asr features --png spectrogram.png speech.wav\n" +
			"  asr features speech.flac --out feats.npy",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "png", Usage: "write a spectrogram picture to `FILE.png`"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the features as float32 (frames × bands) to `FILE.npy`"},
			&cli.IntFlag{Name: "mels", Value: features.DefaultNumMels, Usage: "number of mel bands"},
			&cli.StringFlag{Name: "colormap", Value: "magma", Usage: "spectrogram colour map: magma or viridis"},
		},
		Action: featuresAction,
	})
}

func featuresAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("features: want one audio file, got %d arguments (see asr features --help)", c.NArg())
	}
	path := c.Args().First()
	start := time.Now()
	var a *features.Audio
	var err error
	if path == "-" {
		a, err = features.Decode(os.Stdin)
	} else {
		a, err = features.DecodeFile(path)
	}
	if err != nil {
		return err
	}
	cfg := features.Config{NumMels: c.Int("mels")}
	ext, err := features.NewExtractor(cfg)
	if err != nil {
		return err
	}
	rate := ext.Config().SampleRate
	samples := a.Samples
	if a.SampleRate != rate {
		if samples, err = features.Resample(samples, a.SampleRate, rate); err != nil {
			return err
		}
	}
	m, err := ext.Compute(samples)
	if err != nil {
		return err
	}
	if m.Frames == 0 {
		return fmt.Errorf("features: %s holds no audio", path)
	}
	wrote := false
	if out := c.String("out"); out != "" {
		if err := writeFile(out, m.WriteNPY); err != nil {
			return err
		}
		wrote = true
	}
	if out := c.String("png"); out != "" {
		img, err := features.Spectrogram(m, cfg, features.SpectrogramOptions{
			Title:    fmt.Sprintf("%s: %d-band log-mel, %.2f s", filepath.Base(path), m.Bands, a.Duration().Seconds()),
			Colormap: c.String("colormap"),
		})
		if err != nil {
			return err
		}
		if err := writeFile(out, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return err
		}
		wrote = true
	}
	mono := "mono"
	if a.Channels > 1 {
		mono = fmt.Sprintf("%d channels mixed to mono", a.Channels)
	}
	summary := fmt.Sprintf("%s: %s, %d Hz, %s, %.2f s → %d frames × %d mel bands (%.0f ms)",
		path, a.Format, a.SampleRate, mono, a.Duration().Seconds(), m.Frames, m.Bands, float64(time.Since(start).Microseconds())/1000)
	if wrote {
		fmt.Fprintln(c.App.ErrWriter, summary)
	} else {
		fmt.Fprintln(c.App.Writer, summary)
	}
	return nil
}

// writeFile writes through a buffer to path, removing the file on error.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("features: writing %s: %w", path, err)
	}
	return nil
}
