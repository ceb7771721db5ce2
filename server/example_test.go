package server_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/server"
)

// ExampleServer_Handler serves the repository's test model through
// httptest, as `asr serve --model testdata/models/tiny-cpu` would, and
// transcribes a clip with the Go client.
func ExampleServer_Handler() {
	ckpt, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(ckpt)
	srv, err := server.New(server.Config{
		Model: "../testdata/models/tiny-cpu", Backend: "go",
		DataRoot: "../testdata", CheckpointRoot: ckpt,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	c, err := api.NewClient(ts.URL, "", nil)
	if err != nil {
		log.Fatal(err)
	}
	audio, err := os.Open("../testdata/ljspeech/wavs/LJ001-0002.wav")
	if err != nil {
		log.Fatal(err)
	}
	defer audio.Close()
	t, err := c.Transcribe(context.Background(), audio, api.TranscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Text)
	for _, w := range t.Words {
		fmt.Printf("%s %.2f-%.2f\n", w.Word, w.Start, w.End)
	}
	// Output:
	// in being comparatively modern
	// in 0.00-0.08
	// being 0.16-0.44
	// comparatively 0.52-1.48
	// modern 1.52-1.90
}
