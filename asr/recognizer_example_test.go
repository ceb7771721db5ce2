package asr_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/asrkit/asrkit/asr"
)

// Load a model and transcribe a file, with word times and confidences.
func ExampleLoad() {
	rec, err := asr.Load("models/ljspeech", nil) // a model directory, or a run directory
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()

	res, err := rec.TranscribeFile(context.Background(), "speech.wav")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
	for _, w := range res.Words {
		fmt.Printf("%-12s %v-%v %.2f\n", w.Text, w.Start, w.End, w.Confidence)
	}
}

// The model built into asrkit needs no files. Builds without one return
// ErrNoBundledModel.
func ExampleLoadDefault() {
	rec, err := asr.LoadDefault(nil)
	if errors.Is(err, asr.ErrNoBundledModel) {
		log.Fatal("no bundled model: use asr.Load with a model directory")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	res, err := rec.TranscribeFile(context.Background(), "testdata/ljspeech/wavs/LJ001-0002.wav")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
}

// Transcribe samples already in memory, at any sample rate; they are
// resampled to the model's rate.
func ExampleRecognizer_Transcribe() {
	rec, err := asr.Load("models/ljspeech", &asr.Options{
		Decoding: asr.DecodingOptions{Beam: 8, LM: "lm.arpa", LMWeight: 0.5, WordBonus: 1.0},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()

	samples := make([]float32, 3*44100) // 3 s of mono audio in [-1, 1] at 44.1 kHz
	res, err := rec.Transcribe(context.Background(), samples, 44100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q (%v of audio)\n", res.Text, res.Duration)
}

// A stream takes audio as it arrives (a microphone, a WebSocket): partial
// results every half second, final words about a second after each pause
// (Options.EndpointInterval), the rest at the end.
func ExampleRecognizer_NewStream() {
	rec, err := asr.Load("models/ljspeech", &asr.Options{EndpointInterval: 500 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	ctx := context.Background()

	s := rec.NewStream()
	chunks := make(chan []float32) // 16 kHz chunks of, say, 100 ms, from somewhere
	go func() { defer close(chunks) /* ... */ }()
	last := time.Now()
	for chunk := range chunks {
		if err := s.AcceptWaveform(ctx, 16000, chunk); err != nil {
			log.Fatal(err)
		}
		if res, ok := s.Endpoint(); ok {
			fmt.Println("final:", res.Text)
		}
		if time.Since(last) >= 500*time.Millisecond {
			p, err := s.Partial(ctx)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("partial:", p.Text)
			last = time.Now()
		}
	}
	res, err := s.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final:", res.Text)
}

// Results can be written as subtitles (and marshal to JSON with times in
// seconds).
func ExampleResult_WriteSRT() {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	res := asr.Result{
		Text: "has never been surpassed",
		Words: []asr.Word{
			{Text: "has", Start: ms(120), End: ms(320), Confidence: 0.98},
			{Text: "never", Start: ms(360), End: ms(640), Confidence: 0.95},
			{Text: "been", Start: ms(680), End: ms(840), Confidence: 0.97},
			{Text: "surpassed", Start: ms(880), End: ms(1480), Confidence: 0.9},
		},
		Duration: ms(1780),
	}
	if err := res.WriteSRT(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1
	// 00:00:00,120 --> 00:00:01,480
	// has never been surpassed
}

// Decode with the bundled model's own language model at another weight
// and word bonus (tune them on held-out data with asr eval), or without it.
func ExampleDecodingOptions() {
	rec, err := asr.LoadDefault(&asr.Options{Decoding: asr.DecodingOptions{LMWeight: 0.3, WordBonus: 1.0}})
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	greedy, err := asr.LoadDefault(&asr.Options{Decoding: asr.DecodingOptions{NoLM: true}})
	if err != nil {
		log.Fatal(err)
	}
	defer greedy.Close()
	fmt.Println(rec.Info().Decoder, "|", greedy.Info().Decoder)
	// Output: beam(width=16), lm order 3 weight 0.3 | greedy
}

// Options are checked all at once, before anything is loaded.
func ExampleOptions_Validate() {
	opts := asr.Options{Window: 2 * time.Second, Decoding: asr.DecodingOptions{Beam: 5000, NoLM: true, LMWeight: 0.3}}
	fmt.Println(opts.Validate())
	// Output:
	// beam width 5000 is above the maximum, 1024
	// a language-model weight (0.3) with NoLM: there is no language model to weigh
	// window 2s must be longer than twice the context 2s
}

// Errors say what was being done and to which file; errors.Is and
// errors.As see through them.
func ExampleError() {
	rec, err := asr.LoadDefault(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	_, err = rec.TranscribeFile(context.Background(), "missing.wav")
	var e *asr.Error
	fmt.Println(err)
	fmt.Println(errors.As(err, &e), e.Op, e.Path, errors.Is(err, os.ErrNotExist))
	// Output:
	// transcribe missing.wav: no such file or directory
	// true transcribe missing.wav true
}

// Report the progress of a long transcription (here to a log every
// minute of audio); the callback travels in the context.
func ExampleWithProgress() {
	rec, err := asr.LoadDefault(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	next := time.Minute
	ctx := asr.WithProgress(context.Background(), func(p asr.Progress) {
		if p.Done >= next {
			log.Printf("%v of %v transcribed", p.Done.Round(time.Second), p.Total.Round(time.Second))
			next += time.Minute
		}
	})
	res, err := rec.TranscribeFile(ctx, "lecture.wav") // read and transcribed a block at a time
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
}

// Transcribe standard input as it arrives (a stream that ends when its
// writer closes it), in bounded memory whatever its length.
func ExampleRecognizer_TranscribeReader() {
	rec, err := asr.LoadDefault(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rec.Close()
	res, err := rec.TranscribeReader(context.Background(), os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
}
