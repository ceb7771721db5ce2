package main

import (
	"bufio"
	"bytes"
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
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/eval"
)

func init() { commands = append(commands, transcribeCommand()) }

// Output formats of asr transcribe, and the extension of each in --out.
var (
	transcribeFormats = []string{"text", "txt", "json", "tsv", "srt", "vtt"}
	formatExt         = map[string]string{"text": ".txt", "txt": ".txt", "json": ".json", "tsv": ".tsv", "srt": ".srt", "vtt": ".vtt"}
)

// audioExts are the file extensions that a folder argument's audio files
// have (the format itself is recognised by content, not by name).
var audioExts = []string{".wav", ".flac", ".mp3"}

func transcribeCommand() *cli.Command {
	return &cli.Command{
		Name:      "transcribe",
		Usage:     "transcribe audio files, folders of them, or a JSONL manifest",
		ArgsUsage: "FILE|DIR|MANIFEST.jsonl... (WAV, FLAC or MP3, any rate and channels; - for standard input)",
		Description: "Prints the transcript of each FILE: the bare text for one file, \"FILE<TAB>text\"\n" +
			"lines for several. A DIR stands for its .wav, .flac and .mp3 files (not\n" +
			"its subfolders), in name order. --format json gives words with start/end times\n" +
			"(seconds) and confidences; tsv gives \"start<TAB>end<TAB>text\" rows (milliseconds,\n" +
			"one per caption, as Whisper writes them; a path column first for several files);\n" +
			"srt and vtt give subtitles; txt is text. Without --model, the model built into\n" +
			"asr is used. Long recordings and standard input are read and transcribed as they\n" +
			"come, in bounded memory; on a terminal a progress bar shows on standard error.\n" +
			"A file that cannot be read or transcribed is reported on standard error and the\n" +
			"others are still transcribed; the exit status is then 1. Ctrl+C while standard\n" +
			"input is read ends it there: what came is transcribed and printed (again: stop).\n\n" +
			"A NeMo-style JSONL manifest (MANIFEST.jsonl: one {\"audio_filepath\": ...} object\n" +
			"per line) is transcribed row by row into a manifest with a \"pred_text\" field,\n" +
			"written to standard output or --out FILE.\n\n" +
			"--out never replaces a file that exists unless --force is given, never one that\n" +
			"is an input, and never anything but a regular file.\n\n" +
			"Examples:\n" +
			"  asr transcribe speech.wav\n" +
			"  asr transcribe --model models/ljspeech --format json talk.flac\n" +
			"  asr transcribe --format srt --out subs/ recordings/\n" +
			"  asr transcribe --out predictions.jsonl test_manifest.jsonl\n" +
			"  ffmpeg -i talk.m4a -f wav - | asr transcribe -",
		Flags: append(recognizerFlags("model directory, checkpoint or run directory (`DIR`; default: the bundled model)"),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: " + strings.Join(transcribeFormats, ", ")},
			&cli.StringFlag{Name: "out", Aliases: []string{"o", "output-dir"}, Usage: "write each transcript to `PATH`/NAME.{txt,json,tsv,srt,vtt} (a folder); for a manifest, the output manifest (a file)"},
			&cli.BoolFlag{Name: "force", Usage: "let --out replace files that exist"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar, even on a terminal"},
		),
		Action: transcribeAction,
	}
}

// transcribeJob is what one run of the command does.
type transcribeJob struct {
	format   string
	outDir   string
	force    bool
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	progress io.Writer // a terminal for progress bars, or nil
	several  bool
	outputs  map[string]string // input path → output file, with --out
	endStdin chan struct{}     // closed by the first interrupt while standard input is read
	onStdin  atomic.Bool       // standard input is being read
}

// interrupts handles Ctrl+C: while standard input is being transcribed,
// the first one ends it as if it had ended (what was heard is transcribed
// and printed: a live stream is stopped this way); otherwise, or the
// second time, it stops the command.
func (j *transcribeJob) interrupts(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	j.endStdin = make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt)
	go func() {
		ended := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
			}
			if j.onStdin.Load() && !ended {
				ended = true
				close(j.endStdin)
				fmt.Fprintln(j.stderr, "asr: interrupt: ending standard input here (again to stop)")
				continue
			}
			cancel()
			if ended {
				// The input may be blocked in a read that only new data ends.
				fmt.Fprintln(j.stderr, "asr: interrupted")
				os.Exit(130)
			}
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// endableReader reads r until end is closed, then reports the end of the
// input.
type endableReader struct {
	r   io.Reader
	end <-chan struct{}
}

func (e endableReader) Read(p []byte) (int, error) {
	select {
	case <-e.end:
		return 0, io.EOF
	default:
	}
	return e.r.Read(p)
}

func transcribeAction(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return errors.New("transcribe: give one or more audio files, folders or a manifest (- for standard input); see 'asr transcribe --help'")
	}
	format := c.String("format")
	if !slices.Contains(transcribeFormats, format) {
		return fmt.Errorf("transcribe: unknown --format %q (want %s)", format, strings.Join(transcribeFormats, ", "))
	}
	if manifest := manifestArg(args); manifest != "" {
		if len(args) > 1 {
			return fmt.Errorf("transcribe: a manifest (%s) must be the only input", manifest)
		}
		if c.IsSet("format") {
			return errors.New("transcribe: a manifest's output is a manifest (with pred_text): --format does not apply")
		}
		return transcribeManifest(c, manifest)
	}
	paths, err := expandInputs(args)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	job := &transcribeJob{
		format: format, outDir: c.String("out"), force: c.Bool("force"), several: len(paths) > 1,
		stdin: c.App.Reader, stdout: c.App.Writer, stderr: errWriter(c),
	}
	if job.stdin == nil {
		job.stdin = os.Stdin
	}
	if (format == "srt" || format == "vtt") && job.several && job.outDir == "" {
		return fmt.Errorf("transcribe: --format %s with several files needs --out DIR (one subtitle file each)", format)
	}
	if job.outDir != "" {
		if err := job.planOutputs(paths); err != nil {
			return fmt.Errorf("transcribe: %w", err)
		}
	}
	job.progress = progressWriter(c)

	ctx, stop := job.interrupts(c.Context)
	defer stop()
	start := time.Now()
	rec, err := loadRecognizer(c)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer rec.Close()
	info := rec.Info()
	appLogger(c).Debug("model loaded", "dir", info.Dir, "backend", info.Backend, "decoder", info.Decoder, "seconds", time.Since(start).Seconds())
	if job.format == "tsv" && job.several && job.outDir == "" {
		fmt.Fprintln(job.stdout, "path\tstart\tend\ttext")
	}

	failed := 0
	for _, p := range paths {
		if err := job.file(ctx, rec, p); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("transcribe: interrupted: %w", ctx.Err())
			}
			fmt.Fprintf(job.stderr, "asr: %v\n", err)
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("transcribe: %d of %d files failed", failed, len(paths))}
	}
	return nil
}

// manifestArg returns the argument that names a JSONL manifest, if any.
func manifestArg(args []string) string {
	for _, a := range args {
		if ext := strings.ToLower(filepath.Ext(a)); ext == ".jsonl" || ext == ".json" {
			return a
		}
	}
	return ""
}

// expandInputs replaces each folder by its audio files, in name order,
// and checks that standard input is named at most once.
func expandInputs(args []string) ([]string, error) {
	var out []string
	stdins := 0
	for _, a := range args {
		if a == "-" {
			if stdins++; stdins > 1 {
				return nil, errors.New("standard input (-) can be read only once")
			}
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // a file; a missing one is reported when it is read
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range ents {
			if !e.IsDir() && slices.Contains(audioExts, strings.ToLower(filepath.Ext(e.Name()))) {
				out = append(out, filepath.Join(a, e.Name()))
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s holds no %s files", a, strings.Join(audioExts, ", "))
		}
	}
	return out, nil
}

// planOutputs names the output file of every input before anything is
// transcribed, and refuses the run when one would replace a file that
// exists (unless --force), an input, or something that is not a regular
// file: nothing the user had is lost, not even halfway through a run.
func (j *transcribeJob) planOutputs(paths []string) error {
	if err := os.MkdirAll(j.outDir, 0o755); err != nil {
		return err
	}
	ext := formatExt[j.format]
	j.outputs = map[string]string{}
	taken := map[string]bool{}
	var exist []string
	for _, p := range paths {
		base := "stdin"
		if p != "-" {
			base = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		}
		name := filepath.Join(j.outDir, base+ext)
		for i := 2; taken[name]; i++ {
			name = filepath.Join(j.outDir, fmt.Sprintf("%s-%d%s", base, i, ext))
		}
		taken[name] = true
		j.outputs[p] = name
		if err := checkOutput(name, paths, j.force); err != nil {
			if !errors.Is(err, errExists) {
				return err
			}
			exist = append(exist, name)
		}
	}
	if len(exist) > 0 {
		return fmt.Errorf("%d output file(s) already exist (%s); give --force to replace them", len(exist), strings.Join(exist[:min(3, len(exist))], ", "))
	}
	return nil
}

// file transcribes and prints one input.
func (j *transcribeJob) file(ctx context.Context, rec *asr.Recognizer, path string) error {
	name := path
	if path == "-" {
		name = "standard input"
	}
	bar := newAudioBar(j.progress, filepath.Base(name))
	defer bar.close()
	ctx = asr.WithProgress(ctx, bar.update)
	var (
		res asr.Result
		err error
	)
	if path == "-" {
		in := j.stdin
		if j.endStdin != nil {
			in = endableReader{r: j.stdin, end: j.endStdin}
		}
		j.onStdin.Store(true)
		res, err = rec.TranscribeReader(ctx, in)
		j.onStdin.Store(false)
		var e *asr.Error
		if errors.As(err, &e) {
			err = fmt.Errorf("transcribe standard input: %w", e.Err)
		}
	} else {
		res, err = rec.TranscribeFile(ctx, path)
	}
	if err != nil {
		return err
	}
	bar.close()
	if j.outDir == "" {
		return j.write(j.stdout, path, res)
	}
	out := j.outputs[path]
	if err := writeOutput(out, j.force, func(w io.Writer) error { return j.write(w, path, res) }); err != nil {
		return fmt.Errorf("transcribe %s: %w", path, err)
	}
	fmt.Fprintf(j.stderr, "%s → %s\n", path, out)
	return nil
}

// write writes a result in the job's format.
func (j *transcribeJob) write(w io.Writer, path string, res asr.Result) error {
	prefix := j.several && j.outDir == "" // several inputs on standard output: say which
	var b bytes.Buffer
	switch j.format {
	case "text", "txt":
		if prefix {
			fmt.Fprintf(&b, "%s\t", path)
		}
		fmt.Fprintln(&b, res.Text)
	case "json":
		js, err := json.Marshal(res)
		if err != nil {
			return err
		}
		if prefix {
			p, _ := json.Marshal(path)
			js = append(append(append([]byte(`{"path":`), p...), ','), js[1:]...)
		}
		b.Write(append(js, '\n'))
	case "tsv":
		if prefix {
			for _, c := range res.Captions() {
				fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", path, c.Start.Milliseconds(), c.End.Milliseconds(), c.Text)
			}
		} else if err := res.WriteTSV(&b); err != nil {
			return err
		}
	case "srt":
		if err := res.WriteSRT(&b); err != nil {
			return err
		}
	case "vtt":
		if err := res.WriteVTT(&b); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// transcribeManifest transcribes a JSONL manifest into one with pred_text.
func transcribeManifest(c *cli.Context, path string) error {
	out, force := c.String("out"), c.Bool("force")
	if out != "" {
		if st, err := os.Stat(out); err == nil && st.IsDir() {
			return fmt.Errorf("transcribe: --out %s is a folder; for a manifest, name the output manifest file", out)
		}
		if err := checkOutput(out, []string{path}, force); err != nil {
			if errors.Is(err, errExists) {
				return fmt.Errorf("transcribe: %s already exists; give --force to replace it", out)
			}
			return fmt.Errorf("transcribe: %w", err)
		}
	}
	in, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	rec, err := loadRecognizer(c)
	if err != nil {
		return fmt.Errorf("transcribe: %w", err)
	}
	defer rec.Close()
	bar := newCountBar(progressWriter(c), bytes.Count(in, []byte("\n")), filepath.Base(path))
	defer bar.close()
	opts := eval.ManifestOptions{Dir: filepath.Dir(path), Source: path, Progress: bar.set}
	var sum eval.ManifestSummary
	run := func(w io.Writer) error {
		var err error
		sum, err = eval.TranscribeManifest(ctx, rec, bytes.NewReader(in), w, opts)
		return err
	}
	if out == "" {
		bw := bufio.NewWriter(c.App.Writer)
		if err := run(bw); err != nil {
			return fmt.Errorf("transcribe: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	} else {
		if err := writeOutput(out, force, run); err != nil {
			return fmt.Errorf("transcribe: %w", err)
		}
		bar.close()
		fmt.Fprintf(errWriter(c), "%s → %s (%d rows)\n", path, out, sum.Rows)
	}
	if sum.Failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("transcribe: %d of %d rows could not be transcribed (their \"error\" field says why)", sum.Failed, sum.Rows)}
	}
	return nil
}
