package model

import (
	gocontext "context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/internal/backend"
)

// randomBatch returns a batch of random features with lengths between 7/8
// and all of frames, and random labels of about 15 characters per second of
// audio (LJSpeech's rate), at most labelLen.
func randomBatch(r *rand.Rand, size, frames, labelLen, vocab int) batch {
	f := make([]float32, size*frames*DefaultInputDim)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	lengths := make([]int32, size)
	labels := make([]int32, size*labelLen)
	labelLengths := make([]int32, size)
	for b := range size {
		lengths[b] = int32(frames - r.IntN(frames/8+1))
		labelLengths[b] = int32(labelLen - r.IntN(labelLen/4+1))
	}
	for i := range labels {
		labels[i] = int32(1 + r.IntN(vocab-1))
	}
	return batch{
		feats:        tensors.FromFlatDataAndDimensions(f, size, frames, DefaultInputDim),
		lengths:      tensors.FromFlatDataAndDimensions(lengths, size),
		labels:       tensors.FromFlatDataAndDimensions(labels, size, labelLen),
		labelLengths: tensors.FromFlatDataAndDimensions(labelLengths, size),
	}
}

// BenchmarkTrainStep times one training step of tiny on the project's
// pure-Go backend: a batch of 8 clips of 4 s (400 frames, 100 output frames,
// up to 60 characters each), forward, CTC loss, backward, global-norm
// clipping and AdamW with weight decay; dropout on. It also reports the
// backend's 1024x1024 matmul speed, measured in the same run, and floor-s:
// the time the step's matrix products (3x a forward pass's FLOPs) would
// take at that speed. The ratio s/step / floor-s varies much less with the
// machine's load than either figure.
//
//	go test -run '^$' -bench TrainStep -benchtime 20x ./asr/model
func BenchmarkTrainStep(b *testing.B) {
	const clips, frames = 8, 400
	cfg, _ := Preset("tiny")
	be := goBackend(b)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(1))
	step := newTrainStep(b, be, ctx, cfg, trainStepOptions{learningRate: 1e-3, weightDecay: 1e-3, clipNorm: 5})
	data := randomBatch(rand.New(rand.NewPCG(1, 2)), clips, frames, 60, cfg.VocabSize)
	step(data) // graph build and first run
	mm, err := backend.BenchmarkMatmul(gocontext.Background(), be, 1024, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		step(data)
	}
	perStep := b.Elapsed().Seconds() / float64(b.N)
	// Backward costs about twice the forward's matrix products.
	floor := 3 * float64(clips*cfg.FLOPs(frames)) / (mm.GFLOPS * 1e9)
	b.ReportMetric(perStep, "s/step")
	b.ReportMetric(clips*frames/100/perStep, "audio-s/s")
	b.ReportMetric(mm.GFLOPS, "matmul-GFLOP/s")
	b.ReportMetric(floor, "floor-s")
}

// BenchmarkLogProbs times the inference graph for one 10 s utterance (1000
// frames) and reports the real-time factor next to the floor that the
// backend's measured matrix-multiplication speed allows for the preset's
// FLOPs (see Config.FLOPs).
//
//	go test -run '^$' -bench LogProbs -benchtime 20x ./asr/model
func BenchmarkLogProbs(b *testing.B) {
	const frames, seconds = 1000, 10.0
	be := goBackend(b)
	mm, err := backend.BenchmarkMatmul(gocontext.Background(), be, 1024, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	for _, preset := range []string{"tiny", "small"} {
		b.Run(preset, func(b *testing.B) {
			cfg, _ := Preset(preset)
			ctx := context.New()
			exec, err := context.NewExec(be, ctx, func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
				lp, _ := LogProbs(ctx, cfg, feats, lengths, false)
				return lp
			})
			if err != nil {
				b.Fatal(err)
			}
			data := randomBatch(rand.New(rand.NewPCG(3, 4)), 1, frames, 1, cfg.VocabSize)
			data.lengths = tensors.FromValue([]int32{frames})
			if _, err := exec.Exec(data.feats, data.lengths); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				out, err := exec.Exec(data.feats, data.lengths)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
			perRun := b.Elapsed().Seconds() / float64(b.N)
			flops := float64(cfg.FLOPs(frames))
			b.ReportMetric(perRun/seconds, "RTF")
			b.ReportMetric(flops/1e9, "GFLOP")
			b.ReportMetric(flops/(mm.GFLOPS*1e9)/seconds, "RTF-floor")
			b.ReportMetric(mm.GFLOPS, "matmul-GFLOP/s")
			b.ReportMetric(flops/perRun/1e9, "model-GFLOP/s")
		})
	}
	_ = fmt.Sprint
}
