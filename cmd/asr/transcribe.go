package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/asrkit/asrkit/asr/features"
)

func init() { commands = append(commands, transcribeCommand()) }

// Output formats of asr transcribe.
var transcribeFormats = []string{"text", "json", "srt", "vtt"}

// recognizerFlags are the flags that choose and configure the model, shared
// by transcribe and eval.
func recognizerFlags(modelUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: modelUsage},
		&cli.StringFlag{Name: "backend", Usage: "compute backend: auto, go, xla:cuda or xla:/abs/plugin.so (default: $GOMLX_BACKEND, else auto)"},
		&cli.IntFlag{Name: "beam", Usage: "beam search with `N` prefixes (0: as the model directory says, else greedy; 1: greedy; 8 with --lm)"},
		&cli.StringFlag{Name: "lm", Usage: "fuse an ARPA word n-gram language model (`FILE`, e.g. from asr lm build) into beam search, instead of the model's own"},
		&cli.BoolFlag{Name: "no-lm", Usage: "decode without the language model the model directory carries (greedy unless --beam)"},
		&cli.Float64Flag{Name: "lm-weight", Usage: "weight of the language model's log-probabilities, --lm's or the model's own (0: 0.5)"},
		&cli.Float64Flag{Name: "word-bonus", Usage: "log-probability bonus per word (with an LM, 0.5-2 offsets the LM's cost per word)"},
	}
}

// loadRecognizer loads the model named by --model, or the bundled one.
func loadRecognizer(c *cli.Context) (*asr.Recognizer, error) {
	opts := []asr.Option{asr.WithBackend(c.String("backend")), asr.WithBeam(c.Int("beam"))}
	if c.Bool("no-lm") {
		if c.String("lm") != "" {
			return nil, errors.New("--no-lm and --lm contradict each other")
		}
		opts = append(opts, asr.WithoutLM())
	}
	if lm := c.String("lm"); lm != "" {
		opts = append(opts, asr.WithLM(lm, c.Float64("lm-weight"), c.Float64("word-bonus")))
	} else if c.IsSet("lm-weight") || c.IsSet("word-bonus") {
		if c.Bool("no-lm") && c.IsSet("lm-weight") {
			return nil, errors.New("--lm-weight needs a language model: drop --no-lm, or give --lm")
		}
		// Retune the model directory's own LM (or, for --word-bonus alone,
		// beam search without one).
		opts = append(opts, asr.WithLMWeights(c.Float64("lm-weight"), c.Float64("word-bonus")))
	}
	if !c.Bool("verbose") {
		// Loading logs the backend choice at the info level; transcripts
		// should come alone (-v shows it).
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn})))
		defer slog.SetDefault(prev)
	}
	if dir := c.String("model"); dir != "" {
		return asr.Load(dir, opts...)
	}
	r, err := asr.LoadDefault(opts...)
	if errors.Is(err, asr.ErrNoBundledModel) {
		return nil, errors.New("this build of asr has no bundled model: give --model DIR (a model directory from asr export, or a run directory)")
	}
	return r, err
}

func transcribeCommand() *cli.Command {
	return &cli.Command{
		Name:      "transcribe",
		Usage:     "transcribe audio files",
		ArgsUsage: "FILE... (WAV, FLAC or MP3, any rate and channels; - for standard input)",
		Description: "Prints the transcript of each FILE: the bare text for one file, \"FILE<TAB>text\"\n" +
			"lines for several. --format json gives words with start/end times (seconds)\n" +
			"and confidences; srt and vtt give subtitles. Without --model, the model built\n" +
			"into asr is used. Long recordings are transcribed in windows with bounded\n" +
			"memory; on a terminal a progress bar shows on standard error. A file that\n" +
			"cannot be read or transcribed is reported on standard error and the others\n" +
			"are still transcribed; the exit status is then 1.\n\n" +
			"Examples:\n" +
			"  asr transcribe speech.wav\n" +
			"  asr transcribe --model models/ljspeech --format json talk.flac\n" +
			"  asr transcribe --format srt --output-dir subs/ *.wav\n" +
			"  ffmpeg -i talk.m4a -f wav - | asr transcribe -",
		Flags: append(recognizerFlags("model directory, checkpoint or run directory (`DIR`; default: the bundled model)"),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: " + strings.Join(transcribeFormats, ", ")},
			&cli.StringFlag{Name: "output-dir", Aliases: []string{"o"}, Usage: "write each transcript to `DIR`/NAME.{txt,json,srt,vtt} instead of standard output"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar, even on a terminal"},
		),
		Action: transcribeAction,
	}
}

// transcribeJob is what one run of the command does.
type transcribeJob struct {
	format   string
	outDir   string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	progress io.Writer // a terminal for progress bars, or nil
	several  bool
	written  map[string]bool // output files written, to avoid overwriting one
}

func transcribeAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return errors.New("transcribe: give one or more audio files (- for standard input); see asr transcribe --help")
	}
	format := c.String("format")
	if !slices.Contains(transcribeFormats, format) {
		return fmt.Errorf("transcribe: unknown --format %q (want %s)", format, strings.Join(transcribeFormats, ", "))
	}
	stdins := 0
	for _, p := range paths {
		if p == "-" {
			stdins++
		}
	}
	if stdins > 1 {
		return errors.New("transcribe: standard input (-) can be read only once")
	}
	job := &transcribeJob{
		format: format, outDir: c.String("output-dir"), several: len(paths) > 1,
		stdin: c.App.Reader, stdout: c.App.Writer, stderr: c.App.ErrWriter, written: map[string]bool{},
	}
	if job.stdin == nil {
		job.stdin = os.Stdin
	}
	if job.stderr == nil {
		job.stderr = os.Stderr
	}
	if (format == "srt" || format == "vtt") && job.several && job.outDir == "" {
		return fmt.Errorf("transcribe: --format %s with several files needs --output-dir (one subtitle file each)", format)
	}
	if job.outDir != "" {
		if err := os.MkdirAll(job.outDir, 0o755); err != nil {
			return fmt.Errorf("transcribe: %w", err)
		}
	}
	if f, ok := job.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.Bool("no-progress") {
		job.progress = f
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	start := time.Now()
	rec, err := loadRecognizer(c)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer rec.Close()
	slog.Debug("model loaded", "dir", rec.Info().Dir, "backend", rec.Info().Backend, "decoder", rec.Info().Decoder, "seconds", time.Since(start).Seconds())

	failed := 0
	for _, p := range paths {
		if err := job.file(ctx, rec, p); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("transcribe: interrupted: %w", ctx.Err())
			}
			fmt.Fprintf(job.stderr, "asr: transcribe: %s\n", withoutPrefix(err))
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("transcribe: %d of %d files failed", failed, len(paths))}
	}
	return nil
}

// file transcribes and prints one file.
func (j *transcribeJob) file(ctx context.Context, rec *asr.Recognizer, path string) error {
	var a *features.Audio
	var err error
	if path == "-" {
		a, err = features.Decode(j.stdin)
		if err != nil {
			err = fmt.Errorf("standard input: %w", err)
		}
	} else {
		a, err = features.DecodeFile(path)
	}
	if err != nil {
		return err
	}
	res, err := transcribeAudio(ctx, rec, a, path, j.progress)
	if err != nil {
		return fmt.Errorf("%s: %s", path, withoutPrefix(err))
	}
	return j.write(path, res)
}

// progressMin is the length of audio from which a progress bar is shown.
const progressMin = 30 * time.Second

// transcribeAudio streams decoded audio through the recogniser in chunks,
// drawing a progress bar on progress (when not nil) for long audio.
func transcribeAudio(ctx context.Context, rec *asr.Recognizer, a *features.Audio, name string, progress io.Writer) (asr.Result, error) {
	if progress == nil || a.Duration() < progressMin {
		return rec.Transcribe(ctx, a.Samples, a.SampleRate)
	}
	total := int(a.Duration().Seconds() + 0.5)
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription(filepath.Base(name)),
		progressbar.OptionSetItsString("audio s"),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	defer bar.Exit()
	s := rec.NewStream()
	chunk := 10 * a.SampleRate
	done := 0.0
	for pos := 0; pos < len(a.Samples); pos += chunk {
		x := a.Samples[pos:min(pos+chunk, len(a.Samples))]
		if err := s.AcceptWaveform(ctx, a.SampleRate, x); err != nil {
			return asr.Result{}, err
		}
		done += float64(len(x)) / float64(a.SampleRate)
		bar.Set(min(int(done), total))
	}
	res, err := s.Finish(ctx)
	if err == nil {
		bar.Finish()
	}
	return res, err
}

// write prints a result, or writes it to the output folder.
func (j *transcribeJob) write(path string, res asr.Result) error {
	var out io.Writer = j.stdout
	var f *os.File
	if j.outDir != "" {
		name := j.outputName(path)
		var err error
		if f, err = os.Create(name); err != nil {
			return err
		}
		out = f
	}
	var err error
	switch j.format {
	case "text":
		if j.several && j.outDir == "" {
			_, err = fmt.Fprintf(out, "%s\t%s\n", path, res.Text)
		} else {
			_, err = fmt.Fprintln(out, res.Text)
		}
	case "json":
		var b []byte
		if b, err = json.Marshal(res); err == nil {
			if j.several && j.outDir == "" {
				p, _ := json.Marshal(path)
				b = append(append(append([]byte(`{"path":`), p...), ','), b[1:]...)
			}
			_, err = out.Write(append(b, '\n'))
		}
	case "srt":
		err = res.WriteSRT(out)
	case "vtt":
		err = res.WriteVTT(out)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(j.stderr, "%s → %s\n", path, f.Name())
		}
	}
	return err
}

// outputName is the output file of an input path: its base name with the
// format's extension, made unique within this run.
func (j *transcribeJob) outputName(path string) string {
	ext := map[string]string{"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt"}[j.format]
	base := "stdin"
	if path != "-" {
		base = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	name := filepath.Join(j.outDir, base+ext)
	for i := 2; j.written[name]; i++ {
		name = filepath.Join(j.outDir, fmt.Sprintf("%s-%d%s", base, i, ext))
	}
	j.written[name] = true
	return name
}

// withoutPrefix is an error's message without the library's "asr: "
// prefix, for lines that already start with "asr: ".
func withoutPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "asr: ")
}
