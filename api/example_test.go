package api_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/asrkit/asrkit/api"
)

// The examples talk to a server at localhost:8000 (`asr serve`), so they
// compile but do not run as tests; package server's tests run the same
// calls against a real server.

func ExampleClient_Transcribe() {
	c, err := api.NewClient("http://localhost:8000", os.Getenv("ASR_API_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	audio, err := os.Open("testdata/ljspeech/wavs/LJ001-0002.wav")
	if err != nil {
		log.Fatal(err)
	}
	defer audio.Close()
	beam := 8
	t, err := c.Transcribe(context.Background(), audio, api.TranscribeOptions{Beam: &beam})
	var se *api.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusServiceUnavailable {
		log.Fatal("the server is busy; retry later")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Text)
	for _, w := range t.Words {
		fmt.Printf("%s %.2f-%.2f (%.2f)\n", w.Word, w.Start, w.End, w.Confidence)
	}
}

func ExampleClient_FollowEvents() {
	c, err := api.NewClient("http://localhost:8000", os.Getenv("ASR_API_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	config, err := os.ReadFile("examples/configs/serve-tiny.yaml")
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Train(ctx, config, "tiny")
	if err != nil {
		log.Fatal(err)
	}
	// The job's history first, then its events as they happen.
	err = c.FollowEvents(ctx, job.ID, func(e api.TrainEvent) error {
		switch {
		case e.Metrics != nil:
			fmt.Printf("step %d/%d loss %.3f ETA %.0f s\n", e.Step, e.TotalSteps, e.Metrics.Loss, e.Metrics.ETA)
		case e.State != nil && !e.State.State.Active():
			fmt.Println(e.State.State, e.State.Message)
			return api.ErrStop
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleClient_Stream() {
	c, err := api.NewClient("http://localhost:8000", os.Getenv("ASR_API_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st, err := c.Stream(ctx, 16000, api.TranscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chunk := make([]byte, 2*3200) // 0.2 s of 16-bit mono PCM at 16 kHz, from a microphone
	for range 10 {
		if err := st.Send(ctx, chunk); err != nil {
			log.Fatal(err)
		}
		m, err := st.Recv(ctx) // one reply per chunk
		if err != nil {
			log.Fatal(err)
		}
		if m.IsFinal() {
			fmt.Println("final:", *m.Text)
		} else {
			fmt.Println("partial:", *m.Partial)
		}
	}
	final, err := st.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final:", *final.Text)
}
