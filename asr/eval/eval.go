// Package eval measures a recogniser on labelled speech, and scores
// transcripts against references: corpus word and character error rates
// with substitutions, deletions and insertions (summed over utterances,
// never averaged), the real-time factor, and the utterances with the
// highest error rates aligned word by word in sclite's style. It is what
// `asr eval` and `asr score` print, for any Go program (a service, a
// tuning script) to use the same way. It also transcribes NeMo-style JSONL
// manifests into manifests with a "pred_text" field ([TranscribeManifest]).
//
// References and hypotheses are compared after the normalisation that
// training applies to transcripts (package asr/text), so that "Mr. Smith
// paid $5" and "mister smith paid five dollars" agree.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/asr/wer"
)

// Utterance is one labelled recording to evaluate on.
type Utterance struct {
	ID string
	// Audio is the audio file.
	Audio string
	// Reference is the normalised transcript.
	Reference string
}

// FromData converts a data set's utterances, sorted by id: the reference
// is the normalised transcript training would use.
func FromData(list []data.Utterance) []Utterance {
	out := make([]Utterance, 0, len(list))
	for _, u := range list {
		ref := u.Target
		if ref == "" {
			ref = text.Normalize(u.Text)
		}
		out = append(out, Utterance{ID: u.ID, Audio: u.Audio, Reference: ref})
	}
	slices.SortFunc(out, func(a, b Utterance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ReadManifest reads the utterances of a NeMo-style JSONL manifest (see
// data.ParseManifest), sorted by id. Invalid rows are an error that lists
// them all.
func ReadManifest(path string) ([]Utterance, error) {
	list, problems, err := data.ReadManifest(path)
	return fromRead(path, list, problems, err)
}

// ReadLJSpeech reads the utterances of an LJSpeech-format folder
// (metadata.csv, wavs/), sorted by id. Invalid rows are an error that
// lists them all.
func ReadLJSpeech(dir string) ([]Utterance, error) {
	list, problems, err := data.ReadLJSpeech(dir)
	return fromRead(dir, list, problems, err)
}

func fromRead(where string, list []data.Utterance, problems []data.Problem, err error) ([]Utterance, error) {
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = p.String()
		}
		return nil, fmt.Errorf("%s has %d invalid rows:\n  %s", where, len(problems), strings.Join(lines, "\n  "))
	}
	return FromData(list), nil
}

// Options configures [Run].
type Options struct {
	// Progress, when not nil, is called after each utterance with the
	// number done and the total.
	Progress func(done, total int)
	// Logger receives a warning for each utterance that could not be
	// transcribed. Nil logs nothing (the report still lists them).
	Logger *slog.Logger
}

// Counts are wer.Counts in the JSON report.
type Counts struct {
	Hits int `json:"hits"`
	Subs int `json:"substitutions"`
	Dels int `json:"deletions"`
	Ins  int `json:"insertions"`
}

func countsOf(c wer.Counts) Counts { return Counts{c.Hits, c.Subs, c.Dels, c.Ins} }

// Errors is the number of substitutions, deletions and insertions.
func (c Counts) Errors() int { return c.Subs + c.Dels + c.Ins }

// RefLen is the number of reference tokens.
func (c Counts) RefLen() int { return c.Hits + c.Subs + c.Dels }

// Result is one evaluated utterance.
type Result struct {
	ID         string  `json:"id"`
	Audio      string  `json:"audio"`
	Reference  string  `json:"reference"`
	Hypothesis string  `json:"hypothesis"`
	WER        float64 `json:"wer"`
	Words      Counts  `json:"words"`
	// Seconds is the audio's duration, Elapsed the transcription time
	// (decoding the audio file included).
	Seconds    float64 `json:"seconds"`
	Elapsed    float64 `json:"elapsed"`
	AlignedRef string  `json:"aligned_reference"`
	AlignedHyp string  `json:"aligned_hypothesis"`
	// Error says why the utterance could not be transcribed ("" when it
	// was); such utterances count in no rate.
	Error string `json:"error,omitempty"`
}

// Report is a whole evaluation.
type Report struct {
	// Model is the model directory ("bundled" for the built-in model),
	// with its step, preset and parameter count; Backend and Decoder are
	// as asr.ModelInfo says.
	Model      string `json:"model"`
	Step       int64  `json:"step"`
	Preset     string `json:"preset"`
	Parameters int    `json:"parameters"`
	Backend    string `json:"backend"`
	Decoder    string `json:"decoder"`
	// Data says what was evaluated on (set by the caller).
	Data string `json:"data"`
	// Utterances counts those transcribed, Failed those that could not
	// be.
	Utterances   int     `json:"utterances"`
	Failed       int     `json:"failed"`
	AudioSeconds float64 `json:"audio_seconds"`
	// WER and CER are corpus rates: errors summed over utterances over
	// reference words (characters) summed.
	WER        float64 `json:"wer"`
	CER        float64 `json:"cer"`
	Words      Counts  `json:"words"`
	Chars      Counts  `json:"chars"`
	WithErrors int     `json:"utterances_with_errors"`
	// Elapsed is the total transcription time, RTF Elapsed over
	// AudioSeconds; LoadSeconds the model's load time (set by the caller).
	Elapsed     float64 `json:"elapsed"`
	RTF         float64 `json:"rtf"`
	LoadSeconds float64 `json:"load_seconds"`
	// Results has every utterance, in the order given.
	Results []Result `json:"results"`
}

// Run transcribes every utterance with rec and compares the normalised
// hypothesis with the reference. An utterance that cannot be transcribed
// (a missing or corrupt file) is counted in Report.Failed, logged and
// kept in Results with its error; the error returned is for a cancelled
// ctx or an empty set.
func Run(ctx context.Context, rec *asr.Recognizer, utts []Utterance, opts Options) (*Report, error) {
	if len(utts) == 0 {
		return nil, errors.New("eval: no utterances")
	}
	info := rec.Info()
	rep := &Report{Model: info.Dir, Backend: info.Backend, Decoder: info.Decoder}
	if rep.Model == "" {
		rep.Model = "bundled"
	}
	if m := info.Manifest; m != nil {
		rep.Step, rep.Preset, rep.Parameters = m.Step, m.Model.Preset, m.Model.NumParameters()
	}
	var corpus wer.Corpus
	for i, u := range utts {
		start := time.Now()
		res, err := rec.TranscribeFile(ctx, u.Audio)
		elapsed := time.Since(start).Seconds()
		r := Result{ID: u.ID, Audio: u.Audio, Reference: u.Reference, Elapsed: elapsed}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if opts.Logger != nil {
				opts.Logger.Warn("cannot transcribe", "id", u.ID, "err", err)
			}
			r.Error = err.Error()
			rep.Failed++
		} else {
			hyp := text.Normalize(res.Text)
			a := corpus.Add(u.Reference, hyp)
			r.Hypothesis, r.WER, r.Words = hyp, a.ErrorRate(), countsOf(a.Counts)
			r.Seconds = res.Duration.Seconds()
			r.AlignedRef, r.AlignedHyp = a.Pretty()
			rep.AudioSeconds += r.Seconds
			rep.Elapsed += elapsed
		}
		rep.Results = append(rep.Results, r)
		if opts.Progress != nil {
			opts.Progress(i+1, len(utts))
		}
	}
	rep.Utterances = corpus.Utterances
	rep.WER, rep.CER = corpus.WER(), corpus.CER()
	rep.Words, rep.Chars = countsOf(corpus.Words), countsOf(corpus.Chars)
	rep.WithErrors = corpus.WithErrors
	if rep.AudioSeconds > 0 {
		rep.RTF = rep.Elapsed / rep.AudioSeconds
	}
	return rep, nil
}

// Worst returns up to n utterances with at least one word error, highest
// WER first (then most errors; ties keep their order).
func (r *Report) Worst(n int) []Result {
	var worst []Result
	for _, u := range r.Results {
		if u.Error == "" && u.Words.Errors() > 0 {
			worst = append(worst, u)
		}
	}
	slices.SortStableFunc(worst, func(a, b Result) int {
		if a.WER != b.WER {
			if a.WER > b.WER {
				return -1
			}
			return 1
		}
		return b.Words.Errors() - a.Words.Errors()
	})
	return worst[:min(n, len(worst))]
}

// WriteText writes the report for people: model, data, WER and CER with
// their counts, speed, and the worst utterances aligned (sclite's style:
// errors in upper case, *** for a missing word).
func (r *Report) WriteText(w io.Writer, worst int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "model:    %s (%s, %d parameters, step %d); backend %s; %s decoding\n", r.Model, r.Preset, r.Parameters, r.Step, r.Backend, r.Decoder)
	fmt.Fprintf(&b, "data:     %s: %d utterances, %.1f s of audio", r.Data, r.Utterances, r.AudioSeconds)
	if r.Failed > 0 {
		fmt.Fprintf(&b, " (%d more failed)", r.Failed)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "WER:      %.2f%% (%d errors in %d words: %d substitutions, %d deletions, %d insertions)\n",
		100*r.WER, r.Words.Errors(), r.Words.RefLen(), r.Words.Subs, r.Words.Dels, r.Words.Ins)
	fmt.Fprintf(&b, "CER:      %.2f%% (%d errors in %d characters: %d substitutions, %d deletions, %d insertions)\n",
		100*r.CER, r.Chars.Errors(), r.Chars.RefLen(), r.Chars.Subs, r.Chars.Dels, r.Chars.Ins)
	fmt.Fprintf(&b, "speed:    %.2f s for %.1f s of audio: RTF %.4f (model load %.2f s)\n", r.Elapsed, r.AudioSeconds, r.RTF, r.LoadSeconds)
	fmt.Fprintf(&b, "errors:   %d of %d utterances have at least one word error\n", r.WithErrors, r.Utterances)
	if ws := r.Worst(worst); len(ws) > 0 {
		fmt.Fprintf(&b, "\nthe %d utterances with the highest WER:\n", len(ws))
		for _, u := range ws {
			fmt.Fprintf(&b, "\n%s  %s  %.1f s  WER %.1f%% (S %d, D %d, I %d)\n", u.ID, filepath.Base(u.Audio), u.Seconds, 100*u.WER, u.Words.Subs, u.Words.Dels, u.Words.Ins)
			fmt.Fprintf(&b, "  REF: %s\n  HYP: %s\n", u.AlignedRef, u.AlignedHyp)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadSplit returns one set (train, val or test) of a training config's
// corpus, split as training splits it: the corpus is checked and its
// feature cache built or reused, as `asr train` and `asr data prepare` do.
func ReadSplit(ctx context.Context, cfg data.Config, opts data.Options, split data.Split) ([]Utterance, error) {
	if !slices.Contains(data.Splits, split) {
		return nil, fmt.Errorf("eval: split %q: want train, val or test", split)
	}
	ds, err := data.Prepare(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return FromData(ds.Utterances(split)), nil
}
