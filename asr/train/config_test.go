package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/testutil"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "exp1.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigResolvesPathsAndDefaults(t *testing.T) {
	p := writeConfig(t, `
datasets:
  ljspeech:
    path: data/LJSpeech-1.1
model:
  preset: small
train:
  steps: 2000
  init_from: /abs/model
checkpoint:
  every: 500
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if want := filepath.Join(dir, "data/LJSpeech-1.1"); c.Datasets.LJSpeech.Path != want {
		t.Errorf("datasets.ljspeech.path = %q, want %q", c.Datasets.LJSpeech.Path, want)
	}
	if want := filepath.Join(dir, "runs", "exp1"); c.Checkpoint.Dir != want {
		t.Errorf("default run dir = %q, want %q", c.Checkpoint.Dir, want)
	}
	if c.Train.InitFrom != "/abs/model" {
		t.Errorf("absolute init_from changed: %q", c.Train.InitFrom)
	}
	d := c.WithDefaults()
	if d.Train.LearningRate != DefaultLearningRate || *d.Train.WeightDecay != DefaultWeightDecay || d.Train.Schedule != ScheduleCosine ||
		d.Checkpoint.Every != 500 || d.Checkpoint.Keep != DefaultKeep || d.Model.DModel != 176 || d.Features.NumMels != 80 ||
		*d.Train.SpecAugment.FreqMasks != 2 || d.Train.GradAccumulation != 1 || d.Log.Every != DefaultLogEvery {
		t.Errorf("defaults not filled in: %+v", d.Train)
	}
	if d.Train.Precision != model.PrecisionFloat32 {
		t.Errorf("train.precision default = %q, want float32", d.Train.Precision)
	}
	if math.Abs(*d.Train.MinLearningRate-1e-5) > 1e-12 {
		t.Errorf("min_learning_rate default = %v, want 1%% of 1e-3", *d.Train.MinLearningRate)
	}
	// The JSON form (stored in checkpoints) round-trips.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || !jsonEqual(back, d) {
		t.Errorf("JSON round trip: %v\n%s", err, b)
	}
}

func TestLoadConfigStrictErrors(t *testing.T) {
	p := writeConfig(t, `
datasets:
  ljspeech:
    path: x
train:
  steps: 1.5
  learnig_rate: 0.1
  schedule: linear
checkpoint:
  keep: -2
  interval: soon
`)
	_, err := LoadConfig(p)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"exp1.yaml:6:10: train.steps: expected an integer",
		"exp1.yaml:7:3: train.learnig_rate: unknown key (did you mean \"learning_rate\"?)",
		"exp1.yaml:11:13: checkpoint.interval",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// Type errors are reported before validation; a well-typed file with
	// bad values reports every value problem at once.
	p = writeConfig(t, `
datasets:
  ljspeech:
    path: x
features:
  n_mels: 64
train:
  steps: 100
  warmup_steps: 200
  schedule: linear
  beta1: 1.5
  grad_accumulation: -1
  precision: float16
checkpoint:
  keep: 2
  average_last: 5
`)
	_, err = LoadConfig(p)
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, want := range []string{
		"model.input_dim 80 differs from features.n_mels 64",
		"train.warmup_steps 200", "train.schedule \"linear\"", "train.beta1 1.5",
		"train.grad_accumulation -1", "checkpoint.average_last 5 exceeds checkpoint.keep 2",
		`train.precision "float16": want float32 or bfloat16`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

func TestDefaultWarmupFitsShortRuns(t *testing.T) {
	for _, c := range []struct{ steps, want int64 }{{50000, 1000}, {5000, 500}, {200, 20}, {5, 0}} {
		var cfg Config
		cfg.Train.Steps = c.steps
		if got := *cfg.WithDefaults().Train.WarmupSteps; got != c.want {
			t.Errorf("steps %d: default warm-up %d, want %d", c.steps, got, c.want)
		}
	}
	// An explicit 0 means no warm-up: step 1 has the full learning rate.
	s := DefaultConfig().Train
	s.WarmupSteps = new(int64(0))
	if lr := s.LearningRateAt(1, 100); lr != s.LearningRate {
		t.Errorf("no warm-up: step 1 has learning rate %g, want %g", lr, s.LearningRate)
	}
}

func TestValidateNeedsASource(t *testing.T) {
	err := Config{}.Validate()
	if err == nil || !strings.Contains(err.Error(), "ljspeech.path or datasets.manifests.train must be set") {
		t.Errorf("Validate of the zero config: %v", err)
	}
	c := DefaultConfig()
	c.Datasets.LJSpeech.Path = "/data/LJSpeech-1.1"
	if err := c.Validate(); err != nil {
		t.Errorf("DefaultConfig with a corpus: %v", err)
	}
	c.Train.Epochs = 3
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("steps and epochs both set: %v", err)
	}
}

func TestLearningRateSchedules(t *testing.T) {
	s := DefaultConfig().Train
	s.LearningRate, s.WarmupSteps = 1e-3, new(int64(100))
	lo := 1e-5
	s.MinLearningRate = &lo
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }
	cases := []struct {
		schedule string
		step     int64
		want     float64
	}{
		{ScheduleCosine, 1, 1e-5},      // warm-up starts above zero
		{ScheduleCosine, 50, 5e-4},     // halfway up
		{ScheduleCosine, 100, 1e-3},    // peak
		{ScheduleCosine, 550, 5.05e-4}, // halfway down: (lr + min)/2
		{ScheduleCosine, 1000, 1e-5},   // the end
		{ScheduleCosine, 2000, 1e-5},   // past the end: stays at the floor
		{ScheduleNoam, 100, 1e-3},
		{ScheduleNoam, 400, 5e-4}, // lr·sqrt(100/400)
		{ScheduleConstant, 700, 1e-3},
	}
	for _, c := range cases {
		s.Schedule = c.schedule
		if got := s.LearningRateAt(c.step, 1000); !near(got, c.want) {
			t.Errorf("%s at step %d = %g, want %g", c.schedule, c.step, got, c.want)
		}
	}
	// Monotone: up during warm-up, down after it.
	s.Schedule = ScheduleCosine
	prev := 0.0
	for step := int64(1); step <= 1000; step++ {
		lr := s.LearningRateAt(step, 1000)
		if (step <= 100 && lr <= prev) || (step > 100 && lr > prev) {
			t.Fatalf("cosine schedule not monotone at step %d: %g after %g", step, lr, prev)
		}
		prev = lr
	}
}

// TestExampleConfigs loads every config in examples/configs, and checks the
// data of the CPU demo, whose manifests (in examples/configs/tiny-cpu/)
// point at clips in testdata: every row must be valid.
func TestExampleConfigs(t *testing.T) {
	dir := filepath.Join(testutil.Root(t), "examples", "configs")
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) < 2 {
		t.Fatalf("example configs: %v, %v", paths, err)
	}
	for _, p := range paths {
		if _, err := LoadConfig(p); err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
	c, err := LoadConfig(filepath.Join(dir, "tiny-cpu.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.WithDefaults()
	d.Datasets.CacheDir = t.TempDir()
	rep, err := data.Check(context.Background(), d.Datasets, data.Options{Features: d.Features})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 18 || rep.Valid != 18 || len(rep.Problems) != 0 {
		t.Errorf("tiny-cpu data: %d rows, %d valid, problems %v", rep.Rows, rep.Valid, rep.Problems)
	}
}

// FuzzParseConfig: any bytes give a config or an error, never a panic or a
// hang; a config that parses and validates keeps validating once defaults
// are filled in. The seeds are the shipped configs.
func FuzzParseConfig(f *testing.F) {
	for _, p := range []string{"examples/configs/tiny-cpu.yaml", "examples/configs/ljspeech-gpu.yaml", "recipes/bundled/synthetic.yaml", "recipes/bundled/real.yaml"} {
		raw, err := os.ReadFile(filepath.Join(testutil.Root(f), p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("train:\n  steps: [1, 2]\nmodel: {preset: huge}\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseConfig(raw, "fuzz.yaml", "/base", "fuzz")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := c.WithDefaults().Validate(); err != nil {
			t.Fatalf("valid config invalid with defaults: %v", err)
		}
	})
}
