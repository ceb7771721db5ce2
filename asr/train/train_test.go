package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/testutil"
)

// testConfig returns a config that trains tiny on the six-clip synthetic
// corpus in testdata (SYN-0002 and SYN-0005 for validation, the other four
// for training, two per batch), with its own cache and run directory.
func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	val := filepath.Join(dir, "val.txt")
	if err := os.WriteFile(val, []byte("SYN-0002\nSYN-0005\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c Config
	c.Datasets.LJSpeech.Path = testutil.Path(t, "corpus")
	c.Datasets.Split.Lists.Val = val
	c.Datasets.CacheDir = filepath.Join(dir, "cache")
	c.Datasets.Batching.Buckets = []int{176}
	c.Datasets.Batching.MaxFrames = 176 * 2
	c.Datasets.Workers = 2
	c.Model.Preset = "tiny"
	c.Train.Steps = 30
	c.Train.LearningRate = 3e-3
	c.Train.WarmupSteps = new(int64(5))
	c.Train.EvalEvery = 15
	c.Train.Seed = 1
	c.Train.Backend = "go"
	c.Checkpoint.Dir = filepath.Join(dir, "run")
	c.Checkpoint.Every = 15
	c.Log.Every = 5
	return c
}

// collect returns an observer that appends events to *events.
func collect(events *[]Event) Observer {
	return func(e Event) { *events = append(*events, e) }
}

func ofType(events []Event, typ EventType) []Event {
	var out []Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestTrainLossFalls trains tiny for 30 steps and checks the whole job: the
// loss falls, evaluations and checkpoints happen when configured, events
// come in order, the JSONL log and status file are written.
func TestTrainLossFalls(t *testing.T) {
	cfg := testConfig(t)
	var events []Event
	res, err := Run(context.Background(), cfg, Options{Observer: collect(&events)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.Stopped || res.Step != 30 || res.TotalSteps != 30 {
		t.Fatalf("result %+v", res)
	}
	metrics := ofType(events, EventMetrics)
	if len(metrics) != 6 {
		t.Fatalf("%d metrics events, want 6 (every 5 of 30 steps)", len(metrics))
	}
	first, last := metrics[0].Metrics.Loss, metrics[len(metrics)-1].Metrics.Loss
	t.Logf("loss %.3f → %.3f per token; %.1f audio-s/s", first, last, res.AudioSecondsPerSecond())
	if !(last < 0.7*first) {
		t.Errorf("loss did not fall: %.3f at step 5, %.3f at step 30", first, last)
	}
	for _, m := range metrics {
		if !(m.Metrics.AudioSecondsPerSecond > 0) || m.Metrics.Utterances != 5*2 || !(m.Metrics.LearningRate > 0) {
			t.Errorf("metrics at step %d: %+v", m.Step, m.Metrics)
		}
	}
	evals := ofType(events, EventEval)
	if len(evals) != 2 || evals[0].Step != 15 || evals[1].Step != 30 {
		t.Fatalf("eval events at steps %v, want 15 and 30", steps(evals))
	}
	e := evals[1].Eval
	if e.Utterances != 2 || e.Words == 0 || len(e.Samples) != 2 || e.Samples[0].Reference == "" || !(e.Loss > 0) {
		t.Errorf("eval %+v", e)
	}
	if !(evals[1].Eval.Loss < evals[0].Eval.Loss) {
		t.Errorf("validation loss did not fall: %.3f → %.3f", evals[0].Eval.Loss, evals[1].Eval.Loss)
	}
	cks := ofType(events, EventCheckpoint)
	if len(cks) != 2 || cks[0].Step != 15 || cks[1].Step != 30 {
		t.Fatalf("checkpoints at steps %v, want 15 and 30", steps(cks))
	}
	var states []State
	for _, s := range ofType(events, EventState) {
		states = append(states, s.State.State)
	}
	if states[0] != StatePreparing || states[len(states)-1] != StateFinished || !slices.Contains(states, StateEvaluating) {
		t.Errorf("states %v", states)
	}
	if len(ofType(events, EventCompile)) != 2 {
		t.Errorf("compile events %v, want one for the train and one for the eval graph", ofType(events, EventCompile))
	}

	// The checkpoint records the evaluation, training state and config.
	ck, err := checkpoint.Latest(res.RunDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := ck.Manifest
	if m.Step != 30 || m.Metrics.Eval == nil || m.Metrics.Eval.Step != 30 || m.Training.TotalSteps != 30 || m.Training.Utterances != 60 || !(m.Metrics.TrainLoss > 0) {
		t.Errorf("manifest: step %d metrics %+v training %+v", m.Step, m.Metrics, m.Training)
	}
	var saved Config
	tiny, _ := model.Preset("tiny")
	if err := json.Unmarshal(m.Config, &saved); err != nil || saved.Train.Steps != 30 || saved.Model.DModel != tiny.DModel {
		t.Errorf("saved config %+v: %v", saved.Train, err)
	}

	// The JSONL log holds every event, in order.
	f, err := os.Open(filepath.Join(res.RunDir, checkpoint.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Type != events[n].Type {
			t.Fatalf("log line %d: %v (%s)", n+1, err, sc.Text())
		}
	}
	if n != len(events) {
		t.Errorf("log has %d lines, %d events were observed", n, len(events))
	}
	var st status
	b, _ := os.ReadFile(filepath.Join(res.RunDir, checkpoint.StatusFile))
	if err := json.Unmarshal(b, &st); err != nil || st.State != StateFinished || st.Step != 30 {
		t.Errorf("status.json %s: %v", b, err)
	}
}

func steps(events []Event) []int64 {
	var s []int64
	for _, e := range events {
		s = append(s, e.Step)
	}
	return s
}

// weightsOf reads every tensor of the newest checkpoint of a run.
func weightsOf(t *testing.T, run string) (*checkpoint.Checkpoint, map[string][]float32) {
	t.Helper()
	ck, err := checkpoint.Latest(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ck.Tensors(true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for name, v := range ts {
		if v.DType().String() != "Float32" {
			continue
		}
		tensors.MustConstFlatData(v, func(f []float32) { out[name] = slices.Clone(f) })
	}
	return ck, out
}

// maxDiff returns the largest absolute difference between two sets of
// tensors with the same names and sizes (Inf if they differ in shape).
func maxDiff(a, b map[string][]float32) (float64, string) {
	worst, where := 0.0, ""
	if len(a) != len(b) {
		return math.Inf(1), "tensor sets differ"
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || len(x) != len(y) {
			return math.Inf(1), name
		}
		for i := range x {
			if d := math.Abs(float64(x[i] - y[i])); d > worst || math.IsNaN(d) {
				worst, where = d, name
			}
		}
	}
	return worst, where
}

// TestResumeEqualsUninterrupted: 10 steps, stop, resume for 10 more gives
// the same weights, optimizer state, learning rate and data position as 20
// steps in one go (dropout and SpecAugment on, so the random-number state
// and the data order must both be restored).
func TestResumeEqualsUninterrupted(t *testing.T) {
	base := testConfig(t)
	base.Train.Steps = 20
	base.Train.EvalEvery = -1
	base.Checkpoint.Every = 100
	dropout := 0.1
	base.Model.Dropout = &dropout

	whole := base
	whole.Checkpoint.Dir = filepath.Join(t.TempDir(), "whole")
	if _, err := Run(context.Background(), whole, Options{}); err != nil {
		t.Fatal(err)
	}

	split := base
	split.Checkpoint.Dir = filepath.Join(t.TempDir(), "split")
	res, err := Run(context.Background(), split, Options{StopAtStep: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Finished || res.Step != 10 {
		t.Fatalf("first half: %+v", res)
	}
	var events []Event
	res, err = Run(context.Background(), split, Options{Observer: collect(&events)})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 10 || res.Step != 20 || !res.Finished {
		t.Fatalf("second half: %+v", res)
	}

	ckA, a := weightsOf(t, whole.Checkpoint.Dir)
	ckB, b := weightsOf(t, split.Checkpoint.Dir)
	if d, where := maxDiff(a, b); d > 1e-5 {
		t.Errorf("resumed run differs from the uninterrupted one by %g (in %s)", d, where)
	} else {
		t.Logf("largest difference over %d tensors: %g", len(a), d)
	}
	ta, tb := *ckA.Manifest.Training, *ckB.Manifest.Training
	ta.TrainSeconds, tb.TrainSeconds = 0, 0
	if ta != tb {
		t.Errorf("training state: uninterrupted %+v, resumed %+v", ta, tb)
	}
	if la, lb := ckA.Manifest.Metrics.LearningRate, ckB.Manifest.Metrics.LearningRate; la != lb {
		t.Errorf("learning rate at step 20: %g vs %g", la, lb)
	}
	if math.Abs(ckA.Manifest.Metrics.TrainLoss-ckB.Manifest.Metrics.TrainLoss) > 1e-4*ckA.Manifest.Metrics.TrainLoss {
		// The resumed checkpoint's train loss covers steps 11-20 only; the
		// loss of the last metrics interval must match.
		t.Logf("train loss since last checkpoint: %g vs %g (different spans)", ckA.Manifest.Metrics.TrainLoss, ckB.Manifest.Metrics.TrainLoss)
	}
	if st := ofType(events, EventState); st[len(st)-2].State.Resumed != 10 && st[1].State.Resumed != 10 {
		t.Errorf("no state event says the run resumed from step 10")
	}
}

func TestFreshAndForce(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.Steps = 6
	cfg.Train.WarmupSteps = new(int64(2))
	cfg.Train.EvalEvery = -1
	cfg.Checkpoint.Every = 3
	if _, err := Run(context.Background(), cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	// Running again resumes: already finished, nothing to do.
	res, err := Run(context.Background(), cfg, Options{})
	if err != nil || res.ResumedFrom != 6 || !res.Finished {
		t.Fatalf("rerun of a finished job: %+v, %v", res, err)
	}
	if _, err := Run(context.Background(), cfg, Options{Fresh: true}); !errors.Is(err, ErrRunExists) {
		t.Fatalf("--fresh over existing checkpoints: %v, want ErrRunExists", err)
	}
	// Files a user put into the run directory and its checkpoints folder,
	// and an exported model directory there, survive --fresh --force: only
	// what the trainer wrote is deleted.
	run := cfg.Checkpoint.Dir
	mine := map[string]string{
		filepath.Join(run, checkpoint.CheckpointsDir, "NOTES.md"):        "my notes",
		filepath.Join(run, checkpoint.CheckpointsDir, "keep", "a.txt"):   "a",
		filepath.Join(run, checkpoint.CheckpointsDir, "step-best-by-me"): "not a checkpoint name",
		filepath.Join(run, "results.txt"):                                "results",
	}
	for p, content := range mine {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exported := filepath.Join(run, checkpoint.CheckpointsDir, "exported")
	if _, err := checkpoint.Export(run, exported, checkpoint.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(run, checkpoint.CheckpointsDir, ".tmp-step-000000009-42")
	os.MkdirAll(leftover, 0o755)
	res, err = Run(context.Background(), cfg, Options{Fresh: true, Force: true, StopAtStep: 3})
	if err != nil || res.ResumedFrom != 0 || res.Step != 3 {
		t.Fatalf("--fresh --force: %+v, %v", res, err)
	}
	list, _ := checkpoint.List(run)
	if len(list) != 1 || list[0].Step != 3 {
		t.Errorf("after --fresh --force the run holds %v", list)
	}
	for p, content := range mine {
		if b, err := os.ReadFile(p); err != nil || string(b) != content {
			t.Errorf("--fresh --force deleted or changed %s: %q, %v", p, b, err)
		}
	}
	if _, err := checkpoint.Open(exported); err != nil {
		t.Errorf("--fresh --force damaged a model directory inside the run: %v", err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted save's temporary folder survived --fresh --force: %v", err)
	}
	// The log restarted with this run: it holds one preparing state.
	b, _ := os.ReadFile(filepath.Join(run, checkpoint.LogFile))
	if n := strings.Count(string(b), `"state":"preparing"`); n != 1 {
		t.Errorf("train.jsonl holds %d preparing states after --fresh --force, want 1 (a new log)", n)
	}
}

func TestCancelSavesAndStops(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.EvalEvery = -1
	ctx, cancel := context.WithCancel(context.Background())
	var events []Event
	obs := func(e Event) {
		events = append(events, e)
		if e.Type == EventMetrics && e.Step == 5 {
			cancel() // as SIGINT would, in the middle of training
		}
	}
	res, err := Run(ctx, cfg, Options{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Finished || res.Step != 5 || res.Checkpoint == "" {
		t.Fatalf("cancelled run: %+v", res)
	}
	ck, err := checkpoint.Latest(cfg.Checkpoint.Dir, nil)
	if err != nil || ck.Manifest.Step != 5 {
		t.Fatalf("checkpoint after cancel: %v, %v", ck, err)
	}
	st := ofType(events, EventState)
	if got := []State{st[len(st)-2].State.State, st[len(st)-1].State.State}; got[0] != StateStopping || got[1] != StateStopped {
		t.Errorf("last states %v, want stopping, stopped", got)
	}
}

func TestInitFromChecksTheModel(t *testing.T) {
	src := testConfig(t)
	src.Train.Steps = 3
	src.Train.WarmupSteps = new(int64(1))
	src.Train.EvalEvery = -1
	if _, err := Run(context.Background(), src, Options{}); err != nil {
		t.Fatal(err)
	}
	modelDir := filepath.Join(t.TempDir(), "model")
	if _, err := checkpoint.Export(src.Checkpoint.Dir, modelDir, checkpoint.ExportOptions{}); err != nil {
		t.Fatal(err)
	}

	ft := testConfig(t)
	ft.Train.Steps = 2
	ft.Train.WarmupSteps = new(int64(1))
	ft.Train.EvalEvery = -1
	ft.Train.InitFrom = modelDir
	res, err := Run(context.Background(), ft, Options{})
	if err != nil {
		t.Fatalf("fine-tuning: %v", err)
	}
	if res.Step != 2 || res.ResumedFrom != 0 {
		t.Errorf("fine-tuning result %+v", res)
	}

	bad := ft
	bad.Checkpoint.Dir = filepath.Join(t.TempDir(), "run")
	bad.Features.NumMels = 64
	bad.Model.InputDim = 64
	if _, err := Run(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "features") {
		t.Errorf("fine-tuning with other features: %v", err)
	}
	bad = ft
	bad.Checkpoint.Dir = filepath.Join(t.TempDir(), "run")
	bad.Model.NumLayers = 1
	if _, err := Run(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("fine-tuning a shallower model: %v", err)
	}
	bad.Model.NumLayers, bad.Model.DModel, bad.Model.SubsamplingDim = 0, 64, 64
	if _, err := Run(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("fine-tuning a narrower model: %v", err)
	}

	// A deeper model starts as the model it is deepened from: after one
	// step at a negligible learning rate, both evaluate alike.
	evalLoss := func(layers int) float64 {
		c := ft
		c.Checkpoint.Dir = filepath.Join(t.TempDir(), "run")
		c.Model.NumLayers = layers
		c.Train.Steps = 1
		c.Train.WarmupSteps = new(int64(0))
		c.Train.LearningRate = 1e-9
		c.Train.EvalEvery = -1
		res, err := Run(context.Background(), c, Options{})
		if err != nil {
			t.Fatalf("%d layers: %v", layers, err)
		}
		if res.Eval == nil {
			t.Fatalf("%d layers: no evaluation", layers)
		}
		return res.Eval.Loss
	}
	base, deep := evalLoss(2), evalLoss(4)
	if math.Abs(base-deep) > 1e-3*math.Abs(base) {
		t.Errorf("validation loss %v after deepening from 2 to 4 blocks, %v without", deep, base)
	}
}

func TestResumeRefusesAnotherModel(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.Steps = 2
	cfg.Train.WarmupSteps = new(int64(1))
	cfg.Train.EvalEvery = -1
	if _, err := Run(context.Background(), cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	cfg.Model.NumLayers = 1
	cfg.Train.Steps = 4
	if _, err := Run(context.Background(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), "not this config's model") {
		t.Errorf("resuming with another model: %v", err)
	}
}

// TestGradAccumulationEqualsBiggerBatch: two batches of two accumulated
// into one step update the weights as one batch of four does (dropout and
// SpecAugment off, so both see exactly the same computation).
func TestGradAccumulationEqualsBiggerBatch(t *testing.T) {
	zero := 0
	noDropout := 0.0
	run := func(maxFrames, accum int) map[string][]float32 {
		cfg := testConfig(t)
		cfg.Train.Steps = 3
		cfg.Train.WarmupSteps = new(int64(1))
		cfg.Train.EvalEvery = -1
		cfg.Train.GradAccumulation = accum
		cfg.Train.SpecAugment = SpecAugmentConfig{FreqMasks: &zero, TimeMasks: &zero}
		cfg.Model.Dropout = &noDropout
		cfg.Datasets.Batching.MaxFrames = maxFrames
		if _, err := Run(context.Background(), cfg, Options{}); err != nil {
			t.Fatal(err)
		}
		_, w := weightsOf(t, cfg.Checkpoint.Dir)
		return w
	}
	one := run(176*4, 1)
	acc := run(176*2, 2)
	// Adam divides by the root of the second moment, which magnifies float
	// rounding in near-zero gradients: allow 1% of the distance three
	// steps of at most 3e-3 can move a weight.
	if d, where := maxDiff(one, acc); d > 1e-4 {
		t.Errorf("accumulated steps differ from whole-batch steps by %g (in %s)", d, where)
	} else {
		t.Logf("largest difference: %g", d)
	}
}

// TestBackendPrecedence: Options.Backend (the --backend flag) overrides
// train.backend, which overrides $GOMLX_BACKEND.
func TestBackendPrecedence(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.Steps = 1
	cfg.Train.WarmupSteps = new(int64(0))
	cfg.Train.EvalEvery = -1
	missing := "xla:" + filepath.Join(t.TempDir(), "no_such_plugin.so")
	cfg.Train.Backend = missing
	if _, err := Run(context.Background(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), "from config") {
		t.Errorf("train.backend naming a missing plugin: %v", err)
	}
	res, err := Run(context.Background(), cfg, Options{Backend: "go"})
	if err != nil || !strings.HasPrefix(res.Backend, "go") {
		t.Errorf("--backend go over a bad train.backend: %+v, %v", res, err)
	}
	cfg.Train.Backend = ""
	t.Setenv("GOMLX_BACKEND", missing)
	cfg.Checkpoint.Dir = filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), "from GOMLX_BACKEND") {
		t.Errorf("$GOMLX_BACKEND naming a missing plugin: %v", err)
	}
}

// TestBFloat16TrainLossFalls trains tiny for 20 steps with
// train.precision bfloat16 on the pure-Go backend: the loss falls, the
// float32 evaluation runs, and the checkpoint records the precision and
// holds float32 weights and optimizer state.
func TestBFloat16TrainLossFalls(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.Precision = model.PrecisionBFloat16
	cfg.Train.Steps = 20
	cfg.Train.EvalEvery = -1
	cfg.Checkpoint.Every = 20
	var events []Event
	res, err := Run(context.Background(), cfg, Options{Observer: collect(&events)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.Step != 20 {
		t.Fatalf("result %+v", res)
	}
	metrics := ofType(events, EventMetrics)
	first, last := metrics[0].Metrics.Loss, metrics[len(metrics)-1].Metrics.Loss
	t.Logf("bfloat16: loss %.3f → %.3f per token; %.1f audio-s/s", first, last, res.AudioSecondsPerSecond())
	if !(last < 0.8*first) {
		t.Errorf("loss did not fall: %.3f at step 5, %.3f at step 20", first, last)
	}
	evals := ofType(events, EventEval)
	if len(evals) != 1 || !(evals[0].Eval.Loss > 0) || math.IsInf(evals[0].Eval.Loss, 0) {
		t.Errorf("evaluations %+v", evals)
	}
	ck, err := checkpoint.Latest(res.RunDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Manifest.Training.Precision != model.PrecisionBFloat16 {
		t.Errorf("manifest training.precision %q, want bfloat16", ck.Manifest.Training.Precision)
	}
	var saved Config
	if err := json.Unmarshal(ck.Manifest.Config, &saved); err != nil || saved.Train.Precision != model.PrecisionBFloat16 {
		t.Errorf("saved config precision %q: %v", saved.Train.Precision, err)
	}
	ts, err := ck.Tensors(true)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range ts {
		if strings.HasPrefix(name, "/"+model.Scope+"/") || strings.HasPrefix(name, "/"+OptimizerScope+"/") {
			if v.DType().String() != "Float32" {
				t.Errorf("%s is %s, want float32", name, v.DType())
			}
		}
	}

	// The run resumes in float32 from the bfloat16 checkpoint, and the new
	// checkpoint records the new precision.
	cfg.Train.Precision = model.PrecisionFloat32
	cfg.Train.Steps = 24
	cfg.Checkpoint.Every = 4
	res, err = Run(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 20 || res.Step != 24 {
		t.Fatalf("resumed %+v", res)
	}
	if ck, err = checkpoint.Latest(res.RunDir, nil); err != nil || ck.Manifest.Step != 24 || ck.Manifest.Training.Precision != model.PrecisionFloat32 {
		t.Errorf("after resuming in float32: %v, %+v", err, ck)
	}
}

// The throughput of a metrics interval counts only the steps that compiled
// no graph: a step whose batch ran inside its graph's compilation has no
// training time of its own, and counting its audio reported thousands of
// audio seconds per second after a resume (every shape compiles again).
func TestThroughputLeavesOutCompilingSteps(t *testing.T) {
	cfg := testConfig(t)
	cfg.Train.Steps = 6
	cfg.Train.EvalEvery = -1
	cfg.Checkpoint.Every = 100
	cfg.Log.Every = 1
	var events []Event
	if _, err := Run(context.Background(), cfg, Options{Observer: collect(&events)}); err != nil {
		t.Fatal(err)
	}
	compiled, timed := 0, 0
	compiling := false
	for _, e := range events {
		switch e.Type {
		case EventCompile:
			compiling = true
		case EventMetrics:
			m := e.Metrics
			if compiling {
				compiled++
				if m.AudioSecondsPerSecond != 0 || m.StepsPerSecond != 0 || m.ETA != 0 {
					t.Errorf("step %d compiled its graph but has a throughput: %+v", e.Step, m)
				}
			} else {
				timed++
				if m.AudioSecondsPerSecond <= 0 || m.StepsPerSecond <= 0 {
					t.Errorf("step %d compiled nothing but has no throughput: %+v", e.Step, m)
				}
			}
			compiling = false
		}
	}
	if compiled == 0 || timed == 0 {
		t.Errorf("%d compiling and %d timed steps: want both", compiled, timed)
	}
}
