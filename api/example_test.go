package api_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"net/http/httptest"
	"os"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/server"
)

// newServer starts a server of the repository's test model, as `asr serve
// --model testdata/models/tiny-cpu` would.
func newServer() (*server.Server, *httptest.Server) {
	srv, err := server.New(server.Config{
		Model: "../testdata/models/tiny-cpu", Backend: "go",
		DataRoot: os.TempDir(), CheckpointRoot: must(os.MkdirTemp("", "example-")),
	})
	if err != nil {
		log.Fatal(err)
	}
	return srv, httptest.NewServer(srv.Handler())
}

func must(s string, err error) string {
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func ExampleClient_Transcribe() {
	srv, ts := newServer()
	defer srv.Close()
	defer ts.Close()

	c, err := api.NewClient(ts.URL, os.Getenv("ASR_API_TOKEN"), nil)
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

func ExampleClient_Stream() {
	srv, ts := newServer()
	defer srv.Close()
	defer ts.Close()

	// 16-bit mono PCM, as a microphone gives it.
	a, err := features.DecodeFile("../testdata/ljspeech/wavs/LJ001-0008.wav")
	if err != nil {
		log.Fatal(err)
	}
	pcm := make([]byte, 2*len(a.Samples))
	for i, x := range a.Samples {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(x*32767)))
	}

	c, err := api.NewClient(ts.URL, "", nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st, err := c.Stream(ctx, a.SampleRate, api.TranscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chunk := 2 * a.SampleRate / 5 // 0.2 s
	replies := 0
	for i := 0; i < len(pcm); i += chunk {
		if err := st.Send(ctx, pcm[i:min(i+chunk, len(pcm))]); err != nil {
			log.Fatal(err)
		}
		if _, err := st.Recv(ctx); err != nil { // {"partial": ...} or {"text": ...}
			log.Fatal(err)
		}
		replies++
	}
	final, err := st.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d replies, then %q\n", replies, *final.Text)
	for _, w := range final.Result {
		fmt.Printf("%s %.2f-%.2f\n", w.Word, w.Start, w.End)
	}
	// Output:
	// 9 replies, then "has never been surpassed"
	// has 0.00-0.20
	// never 0.32-0.60
	// been 0.68-1.08
	// surpassed 1.12-1.78
}
