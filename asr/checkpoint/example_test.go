package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
)

// Open a model (a model directory, or a run directory for its best
// checkpoint) and build its log-probabilities graph with the saved weights.
func ExampleOpenModel() {
	ckpt, err := checkpoint.OpenModel("runs/tiny-cpu", nil)
	if err != nil {
		log.Fatal(err)
	}
	m := ckpt.Manifest
	fmt.Printf("step %d, %d parameters, %d mel bands, %d symbols\n",
		m.Step, m.Parameters, m.Features.NumMels, m.Vocabulary.Size())

	loader, err := ckpt.NewLoader(false)
	if err != nil {
		log.Fatal(err)
	}
	be, err := simplego.New("ops_sequential") // GoMLX's pure-Go backend, sequential graph execution
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.New()
	ctx.SetLoader(loader)
	exec, err := context.NewExec(be, ctx.Reuse(), func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
		return model.LogProbs(ctx, m.Model, feats, lengths, false)
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = exec // exec.Exec(normalisedFeatures [1, T, 80], lengths [1]) → log-probs [1, T/4, V], output lengths
}

// List the checkpoints of a run directory and find the newest and the best.
func ExampleList() {
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(run)
	writeExampleRun(run) // three checkpoints, evaluated at steps 100 and 200

	list, err := checkpoint.List(run)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range list {
		fmt.Println(filepath.Base(c.Dir), evalText(c.Manifest))
	}
	latest, _ := checkpoint.Latest(run, nil)
	best, _ := checkpoint.Best(run, nil)
	fmt.Println("latest:", latest.Manifest.Step, "best:", best.Manifest.Step)
	// Output:
	// step-000000100 wer 42.0%
	// step-000000200 wer 31.5%
	// step-000000250 not evaluated
	// latest: 250 best: 200
}

// Open a model directory held in a file system, here a run directory
// seen through os.DirFS; an embed.FS (//go:embed of a model directory that
// asr export wrote) or a zip archive work the same way.
func ExampleOpenFS() {
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(run)
	writeExampleRun(run)

	ckpt, err := checkpoint.OpenFS(os.DirFS(run), "checkpoints/step-000000200")
	if err != nil {
		log.Fatal(err)
	}
	weights, err := ckpt.Tensors(false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ckpt.Dir, ckpt.Manifest.Step, evalText(ckpt.Manifest), weights["/model/output/weights"].Shape())
	// Output:
	// checkpoints/step-000000200 200 wer 31.5% (Float32)[2 2]
}

// Export a run directory as a model directory: the mean of its two newest
// checkpoints, in float16.
func ExampleExport() {
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(run)
	writeExampleRun(run)

	out := filepath.Join(run, "model")
	m, err := checkpoint.Export(run, out, checkpoint.ExportOptions{Average: 2, Float16: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Manifest.Kind, m.Manifest.Export.Checkpoints, m.Manifest.Files[0].Name)
	// Output:
	// model [200 250] weights.safetensors
}

// Delete a run's checkpoints (what asr train --fresh --force does), and
// nothing else: a file of one's own in the checkpoints folder stays.
func ExampleRemoveCheckpoints() {
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(run)
	writeExampleRun(run)
	notes := filepath.Join(run, checkpoint.CheckpointsDir, "notes.txt")
	os.WriteFile(notes, []byte("lr 3e-4 was too high\n"), 0o644)

	n, err := checkpoint.RemoveCheckpoints(run)
	if err != nil {
		log.Fatal(err)
	}
	list, _ := checkpoint.List(run)
	_, statErr := os.Stat(notes)
	fmt.Println(n, "removed,", len(list), "left, notes kept:", statErr == nil)
	// Output:
	// 3 removed, 0 left, notes kept: true
}

func evalText(m *checkpoint.Manifest) string {
	if m.Metrics.Eval == nil {
		return "not evaluated"
	}
	return fmt.Sprintf("wer %.1f%%", 100*m.Metrics.Eval.WER)
}

// writeExampleRun saves three small checkpoints into run.
func writeExampleRun(run string) {
	cfg, _ := model.Preset("tiny")
	norm := features.Normalization{Mean: make([]float32, 80), Std: make([]float32, 80)}
	for i := range norm.Std {
		norm.Std[i] = 1
	}
	for _, c := range []struct {
		step int64
		wer  float64
	}{{100, 0.42}, {200, 0.315}, {250, -1}} {
		m := &checkpoint.Manifest{
			Step: c.step, Model: cfg, Features: features.DefaultConfig(), Normalization: norm,
			Vocabulary: text.DefaultVocabulary(), Training: &checkpoint.TrainingState{TotalSteps: 1000},
		}
		if c.wer >= 0 {
			m.Metrics.Eval = &checkpoint.EvalMetrics{Step: c.step, WER: c.wer, CER: c.wer / 3}
		}
		weights := map[string]*tensors.Tensor{"/model/output/weights": tensors.FromValue([][]float32{{1, 2}, {3, 4}})}
		if _, err := checkpoint.Save(run, m, weights, nil); err != nil {
			log.Fatal(err)
		}
	}
}
