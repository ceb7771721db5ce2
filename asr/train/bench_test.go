package train

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/internal/backend"
	"github.com/asrkit/asrkit/internal/testutil"
)

// benchCorpus writes a JSONL manifest listing each of the eight real
// LJSpeech clips in testdata (1.8 to 9.7 s) copies times under distinct
// ids: LJSpeech's lengths, enough utterances to fill the batches.
func benchCorpus(tb testing.TB, copies int) string {
	tb.Helper()
	dir := tb.TempDir()
	meta, err := os.ReadFile(filepath.Join(testutil.Path(tb, "ljspeech"), "metadata.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(meta)), "\n") {
		f := strings.Split(line, "|")
		wav := filepath.Join(testutil.Path(tb, "ljspeech", "wavs"), f[0]+".wav")
		for c := range copies {
			row, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%02d", f[0], c), "audio_filepath": wav, "text": f[2]})
			b.Write(append(row, '\n'))
		}
	}
	p := filepath.Join(dir, "train.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkTrainTiny trains tiny on the pure-Go backend for 24 steps on
// batches of LJSpeech-length clips (the 8 real clips, 10 copies each:
// 6.6 min of audio) of at most 2000 or 4000 padded frames, with the
// default SpecAugment and dropout, then evaluates on 8 clips and saves a
// checkpoint. It reports the training throughput in unpadded audio seconds
// per second of training time (compilation, evaluation and checkpoints
// excluded and reported apart); the same per CPU-second of the steps that
// compiled nothing, times 2 ("audio-s/2cpu-s": what two cores of their own
// would give, which other work on a shared machine does not distort); the
// model's matrix arithmetic per 2 CPU-seconds; and the share of the
// computation that was real audio rather than padding.
//
//	go test -run '^$' -bench TrainTiny -benchtime 1x ./asr/train
func BenchmarkTrainTiny(b *testing.B) {
	manifest := benchCorpus(b, 10)
	for _, maxFrames := range []int{2000, 4000} {
		b.Run(fmt.Sprintf("max_frames=%d", maxFrames), func(b *testing.B) { benchTrain(b, manifest, maxFrames) })
	}
}

func benchTrain(b *testing.B, manifest string, maxFrames int) {
	for b.Loop() {
		dir := b.TempDir()
		var c Config
		c.Datasets.Manifests.Train = manifest
		c.Datasets.Split.Val = new(0.1)
		c.Datasets.Split.Test = new(0.0)
		c.Datasets.CacheDir = filepath.Join(dir, "cache")
		c.Datasets.Batching.Buckets = []int{192, 576, 976}
		c.Datasets.Batching.MaxFrames = maxFrames
		c.Model.Preset = "tiny"
		c.Train.Backend = "go"
		c.Train.Steps = 24
		c.Train.WarmupSteps = new(int64(4))
		c.Train.EvalEvery = -1
		c.Train.EvalMaxUtterances = 8
		c.Checkpoint.Dir = filepath.Join(dir, "run")
		c.Log.Every = 1
		// CPU time of each step that compiled nothing, measured between
		// metrics events (one per step).
		var cpuSteady, audioSteady, paddedSteady, flopsSteady float64
		last, compiled := cpuSeconds(), false
		res, err := Run(context.Background(), c, Options{Observer: func(e Event) {
			switch e.Type {
			case EventCompile:
				compiled = true
			case EventMetrics:
				now := cpuSeconds()
				if !compiled {
					cpuSteady += now - last
					audioSteady += e.Metrics.AudioSeconds
					paddedSteady += e.Metrics.PaddedSeconds
					flopsSteady += e.Metrics.GFLOPS * e.Metrics.AudioSeconds / e.Metrics.AudioSecondsPerSecond
				}
				last, compiled = now, false
			case EventState:
				last = cpuSeconds()
			}
		}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.AudioSecondsPerSecond(), "audio-s/s")
		b.ReportMetric(2*audioSteady/cpuSteady, "audio-s/2cpu-s")
		b.ReportMetric(2*flopsSteady/cpuSteady, "GFLOP/2cpu-s")
		b.ReportMetric(audioSteady/paddedSteady, "unpadded-fraction")
		b.ReportMetric(res.TrainTime.Seconds()/float64(res.Step), "s/step")
		b.ReportMetric(res.AudioSeconds/float64(res.Step), "audio-s/step")
		b.ReportMetric(res.CompileTime.Seconds(), "compile-s")
		b.ReportMetric(res.EvalTime.Seconds(), "eval-s")
		b.ReportMetric(res.CheckpointTime.Seconds(), "checkpoint-s")
	}
}

// BenchmarkStepGraph times the training-step graph alone on one batch of 8
// random 4 s utterances (400 frames, 60 labels): the same shape as
// asr/model's BenchmarkTrainStep, so the two compare the trainer's step
// (per-token loss, clipping, AdamW with the decay mask, non-finite guard)
// with the model package's reference step. It runs in each precision
// (train.precision) on the backend that $GOMLX_BACKEND names (the pure-Go
// one when unset), and with ASRKIT_BENCH_PRESET=small the small preset.
//
//	go test -run '^$' -bench StepGraph -benchtime 10x ./asr/train
func BenchmarkStepGraph(b *testing.B) {
	for _, p := range []model.Precision{model.PrecisionFloat32, model.PrecisionBFloat16} {
		b.Run("precision="+string(p), func(b *testing.B) { benchStepGraph(b, p) })
	}
}

func benchStepGraph(b *testing.B, precision model.Precision) {
	const size, frames, labels = 8, 400, 60
	spec := cmp.Or(strings.TrimSpace(os.Getenv(backend.EnvVar)), backend.SpecGo)
	be, _, err := backend.New(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Finalize()
	cfg, err := model.Preset(cmp.Or(os.Getenv("ASRKIT_BENCH_PRESET"), "tiny"))
	if err != nil {
		b.Fatal(err)
	}
	o := adamW{beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 1e-3, clipNorm: 1}
	ctx := gcontext.New()
	ctx.SetParam(gcontext.ParamInitialSeed, int64(1))
	exec, err := gcontext.NewExec(be, ctx, stepGraph(cfg, precision, o))
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	r := rand.New(rand.NewPCG(1, 2))
	feats := make([]float32, size*frames*80)
	for i := range feats {
		feats[i] = float32(r.NormFloat64())
	}
	lengths := make([]int32, size)
	lab := make([]int32, size*labels)
	labLen := make([]int32, size)
	for i := range size {
		lengths[i] = int32(frames - r.IntN(frames/8+1))
		labLen[i] = int32(labels - r.IntN(labels/4+1))
	}
	for i := range lab {
		lab[i] = int32(1 + r.IntN(28))
	}
	run := func(step int64) {
		args := []any{
			tensors.FromFlatDataAndDimensions(feats, size, frames, 80),
			tensors.FromFlatDataAndDimensions(lengths, size),
			tensors.FromFlatDataAndDimensions(lab, size, labels),
			tensors.FromFlatDataAndDimensions(labLen, size),
		}
		for _, h := range o.hyper(step, 1e-3) {
			args = append(args, h)
		}
		out, err := exec.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		release(out)
	}
	run(1)
	step := int64(2)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		run(step)
		step++
	}
	perStep := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perStep, "s/step")
	b.ReportMetric(size*frames/100/perStep, "audio-s/s")
	b.ReportMetric(2*size*frames/100*float64(b.N)/(cpuSeconds()-cpu0), "audio-s/2cpu-s")
}
