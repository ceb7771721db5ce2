// Command stream sends an audio file to the /v1/stream WebSocket of `asr
// serve` (the Vosk protocol) in 0.2-second chunks at the pace of real
// time, as a microphone would, and prints the partial results on one line
// and each final result on a line of its own.
//
//	go run ./examples/stream testdata/ljspeech/wavs/LJ001-0001.wav
//	go run ./examples/stream -fast talk.flac   # as fast as the server answers
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/features"
)

func main() {
	server := flag.String("server", "http://localhost:8000", "server URL ($ASR_API_TOKEN is sent as its token)")
	fast := flag.Bool("fast", false, "send the audio as fast as the server answers, not in real time")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: stream [-server URL] [-fast] AUDIO_FILE")
	}
	a, err := features.DecodeFile(flag.Arg(0)) // WAV, FLAC or MP3, mixed down to mono
	if err != nil {
		log.Fatal(err)
	}
	c, err := api.NewClient(*server, os.Getenv("ASR_API_TOKEN"), nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	st, err := c.Stream(ctx, a.SampleRate, api.TranscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	chunk := a.SampleRate / 5 // 0.2 s
	start := time.Now()
	for i := 0; i < len(a.Samples); i += chunk {
		samples := a.Samples[i:min(i+chunk, len(a.Samples))]
		pcm := make([]byte, 2*len(samples))
		for j, x := range samples {
			binary.LittleEndian.PutUint16(pcm[2*j:], uint16(int16(math.Round(float64(max(-1, min(1, x)))*32767))))
		}
		if !*fast { // wait until this chunk would have been recorded
			time.Sleep(time.Until(start.Add(time.Duration(i+len(samples)) * time.Second / time.Duration(a.SampleRate))))
		}
		if err := st.Send(ctx, pcm); err != nil {
			log.Fatal(err)
		}
		m, err := st.Recv(ctx)
		if err != nil {
			log.Fatal(err)
		}
		show(m)
	}
	m, err := st.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	show(m)
}

// show prints a partial result over the previous one, and a final result
// on a line of its own.
func show(m api.StreamMessage) {
	switch {
	case m.IsFinal():
		fmt.Printf("\r\033[K%s\n", *m.Text)
	case m.Partial != nil:
		fmt.Printf("\r\033[K%s", *m.Partial)
	}
}
