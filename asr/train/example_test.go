package train_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/asrkit/asrkit/asr/train"
)

// Parse a configuration: zero fields mean defaults, relative paths are
// resolved against the config's folder, and the run directory defaults to
// runs/<name> beside it.
func ExampleParseConfig() {
	yaml := []byte(`
datasets:
  ljspeech:
    path: data/LJSpeech-1.1
model:
  preset: small
train:
  steps: 20000
`)
	cfg, err := train.ParseConfig(yaml, "exp.yaml", "/work", "exp")
	if err != nil {
		log.Fatal(err)
	}
	d := cfg.WithDefaults()
	fmt.Println(d.Datasets.LJSpeech.Path)
	fmt.Println(d.Checkpoint.Dir)
	fmt.Println(d.Model.DModel, d.Model.NumLayers, d.Train.Schedule, *d.Train.WarmupSteps, d.Train.LearningRateAt(20000, 20000))
	// Output:
	// /work/data/LJSpeech-1.1
	// /work/runs/exp
	// 176 16 cosine 1000 1e-05
}

// Train from a config file until the end, or until Ctrl+C (which finishes
// the step and saves a checkpoint); running it again resumes.
func ExampleRun() {
	cfg, err := train.LoadConfig("examples/configs/tiny-cpu.yaml")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := train.Run(ctx, cfg, train.Options{Observer: func(e train.Event) { fmt.Println(e) }})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("step %d of %d, %.1f audio-s/s\n", res.Step, res.TotalSteps, res.AudioSecondsPerSecond())
}

// The JSON form of an event, as written to train.jsonl and sent over the
// server's WebSocket.
func ExampleEvent() {
	e := train.Event{
		Type: train.EventEval, Time: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		Step: 500, TotalSteps: 2000, Epoch: 3,
		Eval: &train.EvalResult{Seconds: 1.5, Samples: []train.Sample{{ID: "LJ001-0002", Reference: "in being comparatively modern", Hypothesis: "in being comparativly modern"}}},
	}
	e.Eval.WER, e.Eval.CER, e.Eval.Loss, e.Eval.Utterances, e.Eval.Words, e.Eval.Step = 0.25, 0.03, 0.41, 1, 4, 500
	b, _ := json.Marshal(e)
	fmt.Println(string(b))
	fmt.Println(e)
	// Output:
	// {"type":"eval","time":"2026-01-02T15:04:05Z","step":500,"total_steps":2000,"epoch":3,"eval":{"step":500,"wer":0.25,"cer":0.03,"loss":0.41,"utterances":1,"words":4,"seconds":1.5,"samples":[{"id":"LJ001-0002","reference":"in being comparatively modern","hypothesis":"in being comparativly modern"}]}}
	// eval at step 500: WER 25.00% CER 3.00% loss 0.4100 on 1 utterances (1.5s)
}
