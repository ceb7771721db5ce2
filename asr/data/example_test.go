package data_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/features"
)

// Check a corpus and print its report, without writing anything.
func ExampleCheck() {
	cfg := data.Config{LJSpeech: data.LJSpeechConfig{Path: "../../testdata/corpus"}}
	rep, err := data.Check(context.Background(), cfg, data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d utterances valid, %.1f s of audio, %d problems\n", rep.Valid, rep.Rows, rep.Seconds, len(rep.Problems))
	// Output: 6 of 6 utterances valid, 8.9 s of audio, 0 problems
}

// Prepare a corpus (check, split, feature cache, normalisation statistics)
// and iterate over training batches, as a trainer does. The position after
// each batch is what a checkpoint saves to resume mid-epoch.
func ExampleDataset_Loader() {
	cache, err := os.MkdirTemp("", "asrkit-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	zero := 0.0
	cfg := data.Config{
		LJSpeech: data.LJSpeechConfig{Path: "../../testdata/corpus"},
		CacheDir: cache,
		Split:    data.SplitConfig{Val: &zero, Test: &zero},
		Batching: data.BatchingConfig{MaxFrames: 600, Seed: 1},
	}
	ds, err := data.Prepare(context.Background(), cfg, data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	sa := features.DefaultSpecAugment()
	loader, err := ds.Loader(data.Train, data.LoaderOptions{Training: true, SpecAugment: &sa})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range loader.Shapes() {
		fmt.Printf("bucket: %d x %d frames x %d bands, labels padded to %d\n", s.Size, s.Frames, s.Bands, s.MaxLabels)
	}
	it := loader.Epoch(context.Background(), 0)
	defer it.Close()
	rows := 0
	for {
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		rows += b.Rows
	}
	fmt.Printf("epoch 0: %d batches, %d utterances; next position %+v\n", loader.BatchesPerEpoch(), rows, it.Position())
	// Output:
	// bucket: 3 x 160 frames x 80 bands, labels padded to 24
	// bucket: 1 x 320 frames x 80 bands, labels padded to 24
	// epoch 0: 4 batches, 6 utterances; next position {Epoch:1 Batch:0}
}
