// Command transcribe shows asrkit used as a library: it prints the
// transcript of each audio file, then each word with its start and end
// time and its confidence.
//
//	go run ./examples/transcribe testdata/ljspeech/wavs/LJ001-0002.wav
//	go run ./examples/transcribe -model models/ljspeech talk.flac
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/asrkit/asrkit/asr"
)

func main() {
	modelDir := flag.String("model", "", "model directory (default: the model built into asrkit)")
	flag.Parse()

	var rec *asr.Recognizer
	var err error
	if *modelDir == "" {
		rec, err = asr.LoadDefault(nil)
	} else {
		rec, err = asr.Load(*modelDir, nil)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()

	for _, path := range flag.Args() {
		res, err := rec.TranscribeFile(context.Background(), path)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", path, res.Text)
		for _, w := range res.Words {
			fmt.Printf("  %6.2f-%6.2f s  %-14s %.2f\n", w.Start.Seconds(), w.End.Seconds(), w.Text, w.Confidence)
		}
	}
}
