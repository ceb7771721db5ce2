package synth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/asrkit/asrkit/asr/synth"
)

// Render a texts file with two espeak-ng voices into an LJSpeech-format
// corpus that asr/data (and asr train) read like LJSpeech.
func ExampleSynthesize() {
	opt := synth.DefaultOptions() // speed 0.85-1.15, pitch ±2 semitones, gain -6-0 dB
	opt.Texts = []string{"recipes/synthetic/val.txt"}
	opt.Out = "corpora/synthetic-val"
	opt.Voices = []string{"espeak-ng:en-us", "espeak-ng:en-gb+f3"}
	opt.Seed = 1
	rep, err := synth.Synthesize(context.Background(), opt)
	if err != nil {
		log.Fatal(err) // wraps synth.ErrSynthesizerMissing when espeak-ng is not installed
	}
	fmt.Printf("%d clips, %.1f minutes rendered\n", rep.Utterances, rep.Seconds/60)
}
