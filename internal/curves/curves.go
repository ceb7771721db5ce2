// Package curves reads the training curves of run directories (their
// train.jsonl event logs) and draws them, several runs overlaid, to a PNG
// or SVG image: what `asr plot` does for people who train from the command
// line, and what the web interface's Training page shows live.
//
// The panels are the training loss (with the validation loss dashed), the
// learning rate, the gradient norm, the training throughput in audio
// seconds per second, and the validation WER and CER (CER dashed). A run
// that was stopped and resumed logs the steps after its last checkpoint
// twice: the later values replace the earlier ones.
package curves

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/asrkit/asrkit/asr/checkpoint"
)

// Point is one value of a curve at a training step.
type Point struct {
	Step  int64
	Value float64
}

// Run is the curves of one training run.
type Run struct {
	// Name labels the run in the legends.
	Name string
	// Loss, LearningRate, GradNorm and Speed (audio seconds trained per
	// second) are the training metrics, one point per metrics event.
	Loss, LearningRate, GradNorm, Speed []Point
	// ValLoss, WER and CER are the validation results, one point per
	// evaluation; WER and CER are fractions (0.125 is 12.5%).
	ValLoss, WER, CER []Point
}

// Empty says whether the run has no metrics and no evaluations.
func (r *Run) Empty() bool {
	return len(r.Loss) == 0 && len(r.LearningRate) == 0 && len(r.GradNorm) == 0 && len(r.Speed) == 0 &&
		len(r.ValLoss) == 0 && len(r.WER) == 0 && len(r.CER) == 0
}

// event is the part of a train.jsonl line (asr/train's Event) that the
// curves need.
type event struct {
	Type    string `json:"type"`
	Step    int64  `json:"step"`
	Metrics *struct {
		Loss         float64 `json:"loss"`
		LearningRate float64 `json:"learning_rate"`
		GradNorm     float64 `json:"grad_norm"`
		Speed        float64 `json:"audio_seconds_per_second"`
	} `json:"metrics"`
	Eval *struct {
		Step int64   `json:"step"`
		WER  float64 `json:"wer"`
		CER  float64 `json:"cer"`
		Loss float64 `json:"loss"`
	} `json:"eval"`
}

// Read reads the curves of a run: path is a run directory (its
// train.jsonl is read) or an event log file itself. The run is named after
// the run directory (the file's folder for a train.jsonl, else the file's
// name without its extension). A last line without its newline is a line
// being written, and is left out; any other line that is not a JSON event
// is an error naming it.
func Read(path string) (Run, error) {
	file, name := path, ""
	st, err := os.Stat(path)
	if err != nil {
		return Run{}, fmt.Errorf("curves: %w", err)
	}
	if st.IsDir() {
		file = filepath.Join(path, checkpoint.LogFile)
		name = filepath.Base(filepath.Clean(path))
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return Run{}, fmt.Errorf("curves: %s has no %s: not a run directory, or training has not started", path, checkpoint.LogFile)
		}
	} else if filepath.Base(path) == checkpoint.LogFile {
		name = filepath.Base(filepath.Dir(filepath.Clean(path)))
	} else {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	f, err := os.Open(file)
	if err != nil {
		return Run{}, fmt.Errorf("curves: %w", err)
	}
	defer f.Close()
	run, err := Parse(f, file)
	if err != nil {
		return Run{}, err
	}
	run.Name = name
	return run, nil
}

// Parse reads the events of a train.jsonl log from r; name says where they
// come from in errors. See [Read].
func Parse(r io.Reader, name string) (Run, error) {
	var run Run
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return Run{}, fmt.Errorf("curves: reading %s: %w", name, err)
		}
		last := errors.Is(err, io.EOF)
		if last && len(line) > 0 {
			return run, nil // a line being written
		}
		if s := strings.TrimSpace(string(line)); s != "" {
			var ev event
			if err := json.Unmarshal([]byte(s), &ev); err != nil {
				return Run{}, fmt.Errorf("curves: %s:%d: not a training event: %w", name, n, err)
			}
			run.add(ev)
		}
		if last {
			return run, nil
		}
	}
}

func (r *Run) add(ev event) {
	switch {
	case ev.Type == "metrics" && ev.Metrics != nil:
		m := ev.Metrics
		r.Loss = appendPoint(r.Loss, ev.Step, m.Loss)
		r.LearningRate = appendPoint(r.LearningRate, ev.Step, m.LearningRate)
		r.GradNorm = appendPoint(r.GradNorm, ev.Step, m.GradNorm)
		r.Speed = appendPoint(r.Speed, ev.Step, m.Speed)
	case ev.Type == "eval" && ev.Eval != nil:
		step := ev.Eval.Step
		if step == 0 {
			step = ev.Step
		}
		r.ValLoss = appendPoint(r.ValLoss, step, ev.Eval.Loss)
		r.WER = appendPoint(r.WER, step, ev.Eval.WER)
		r.CER = appendPoint(r.CER, step, ev.Eval.CER)
	}
}

// appendPoint adds a point; one at a step not after the last one (a
// resumed run logging again the steps after its checkpoint) replaces the
// points from that step on. Non-finite values are left out.
func appendPoint(ps []Point, step int64, v float64) []Point {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ps
	}
	i := len(ps)
	for i > 0 && ps[i-1].Step >= step {
		i--
	}
	return append(ps[:i], Point{Step: step, Value: v})
}

// Smooth is TensorBoard's smoothing of a curve: a debiased exponential
// moving average with weight a in [0, 1) (0 leaves the values as they
// are).
func Smooth(ps []Point, a float64) []Point {
	out := make([]Point, len(ps))
	last := 0.0
	for i, p := range ps {
		if a <= 0 {
			out[i] = p
			continue
		}
		last = last*a + (1-a)*p.Value
		out[i] = Point{Step: p.Step, Value: last / (1 - math.Pow(a, float64(i+1)))}
	}
	return out
}
