// Command client shows the Go client of `asr serve` (package api): it
// transcribes an audio file, starts a training job from a config, and
// follows the job's events until it ends.
//
//	asr serve --listen :8000 --data-root . --checkpoint-root runs/serve &
//	go run ./examples/client testdata/ljspeech/wavs/LJ001-0002.wav examples/configs/serve-tiny.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/asrkit/asrkit/api"
)

func main() {
	server := flag.String("server", "http://localhost:8000", "server URL ($ASR_API_TOKEN is sent as its token)")
	flag.Parse()
	if flag.NArg() != 2 {
		log.Fatal("usage: client [-server URL] AUDIO_FILE TRAINING_CONFIG")
	}
	c, err := api.NewClient(*server, os.Getenv("ASR_API_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	audio, err := os.Open(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	t, err := c.Transcribe(ctx, audio, api.TranscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%.1f s of audio in %.2f s)\n", t.Text, t.Duration, t.ProcessingTime)

	config, err := os.ReadFile(flag.Arg(1))
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Train(ctx, config, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("job", job.ID, "in", job.RunDir)
	err = c.FollowEvents(ctx, job.ID, func(e api.TrainEvent) error {
		switch {
		case e.Metrics != nil:
			fmt.Printf("step %d/%d loss %.3f\n", e.Step, e.TotalSteps, e.Metrics.Loss)
		case e.Eval != nil:
			fmt.Printf("step %d: WER %.1f%%, CER %.1f%%\n", e.Step, 100*e.Eval.WER, 100*e.Eval.CER)
		case e.State != nil:
			fmt.Println(e.State.State, e.State.Message)
			if !e.State.State.Active() {
				return api.ErrStop // finished, stopped or failed
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
