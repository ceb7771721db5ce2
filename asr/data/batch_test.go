package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// batchDataset prepares the LJSpeech sample and the synthetic corpus as one
// manifest corpus of 14 utterances, all in the training set.
func batchDataset(t *testing.T, batching BatchingConfig) *Dataset {
	t.Helper()
	sharedOnce.Do(func() { sharedPath, sharedErr = writeSharedManifest(t) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	cfg := Config{
		Manifests: ManifestConfig{Train: sharedPath},
		CacheDir:  filepath.Join(sharedDir, "cache"),
		Split:     SplitConfig{Val: f64(0), Test: f64(0)},
		Batching:  batching,
	}
	d, err := Prepare(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The batching tests share one prepared corpus (and its cache): computing
// features is the slow part under -race.
var (
	sharedOnce sync.Once
	sharedDir  string
	sharedPath string
	sharedErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asrkit-data-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeSharedManifest(t *testing.T) (string, error) {
	var all []Utterance
	for _, dir := range []string{testutil.Path(t, "ljspeech"), testutil.Path(t, "corpus")} {
		u, _, err := ReadLJSpeech(dir)
		if err != nil {
			return "", err
		}
		all = append(all, u...)
	}
	var b strings.Builder
	path := filepath.Join(sharedDir, "all.jsonl")
	if err := WriteManifest(&b, path, all); err != nil {
		return "", err
	}
	return path, writeFileAtomic(path, []byte(b.String()))
}

func collect(t *testing.T, it *Iterator, n int) []*Batch {
	t.Helper()
	var out []*Batch
	for i := 0; n < 0 || i < n; i++ {
		b, err := it.Next()
		if err == io.EOF && n < 0 {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestLoaderBatches(t *testing.T) {
	d := batchDataset(t, BatchingConfig{MaxFrames: 2000, Seed: 5})
	l, err := d.Loader(Train, LoaderOptions{Training: true})
	if err != nil {
		t.Fatal(err)
	}
	shapes := l.Shapes()
	// 14 utterances from 1.2 to 9.7 s (123 to 967 frames) fall into the
	// 160-frame buckets 160, 320, 640, 960 and 1120; batch sizes 2000/T.
	var frames []int
	total := 0
	for _, s := range shapes {
		frames = append(frames, s.Frames)
		if s.Size != max(1, 2000/s.Frames) || s.Bands != 80 || s.MaxLabels%8 != 0 {
			t.Errorf("shape %+v", s)
		}
		total += s.Utterances
	}
	if !slices.Equal(frames, []int{160, 320, 640, 960, 1120}) || total != 14 {
		t.Errorf("bucket frames %v, %d utterances", frames, total)
	}
	it := l.Epoch(context.Background(), 0)
	defer it.Close()
	batches := collect(t, it, -1)
	if len(batches) != l.BatchesPerEpoch() {
		t.Fatalf("%d batches, BatchesPerEpoch %d", len(batches), l.BatchesPerEpoch())
	}
	byID := map[string]Utterance{}
	for _, u := range d.Utterances(Train) {
		byID[u.ID] = u
	}
	seen := map[string]int{}
	for i, b := range batches {
		if b.Position != (Position{0, i}) {
			t.Errorf("batch %d at %+v", i, b.Position)
		}
		s := shapes[b.Bucket]
		if b.Size != s.Size || b.Frames != s.Frames || b.MaxLabels != s.MaxLabels || len(b.Features) != b.Size*b.Frames*b.Bands ||
			len(b.Labels) != b.Size*b.MaxLabels || len(b.FrameLengths) != b.Size || len(b.IDs) != b.Rows {
			t.Fatalf("batch %d shape: %+v", i, b)
		}
		var secs float64
		for r := 0; r < b.Size; r++ {
			row := b.Features[r*b.Frames*b.Bands : (r+1)*b.Frames*b.Bands]
			if r >= b.Rows {
				if b.FrameLengths[r] != 0 || b.LabelLengths[r] != 0 || slices.ContainsFunc(row, func(v float32) bool { return v != 0 }) {
					t.Errorf("batch %d padding row %d not zero", i, r)
				}
				continue
			}
			u := byID[b.IDs[r]]
			seen[u.ID]++
			secs += u.Duration
			if int(b.FrameLengths[r]) != u.Frames || int(b.LabelLengths[r]) != len(u.Labels) {
				t.Errorf("%s lengths %d/%d, want %d/%d", u.ID, b.FrameLengths[r], b.LabelLengths[r], u.Frames, len(u.Labels))
			}
			if !slices.Equal(b.Labels[r*b.MaxLabels:r*b.MaxLabels+len(u.Labels)], u.Labels) {
				t.Errorf("%s labels differ", u.ID)
			}
			if slices.ContainsFunc(row[u.Frames*b.Bands:], func(v float32) bool { return v != 0 }) {
				t.Errorf("%s: features past its length are not zero", u.ID)
			}
		}
		if math.Abs(secs-b.Seconds) > 1e-9 {
			t.Errorf("batch %d seconds %v, want %v", i, b.Seconds, secs)
		}
	}
	if len(seen) != 14 {
		t.Errorf("%d distinct utterances in an epoch, want 14", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
	if st := it.Stats(); st.Batches != len(batches) || st.Build <= 0 {
		t.Errorf("stats %+v", st)
	}
	if _, err := it.Next(); err != io.EOF {
		t.Errorf("after the epoch: %v", err)
	}
}

func TestLoaderNormalizesAndAugments(t *testing.T) {
	d := batchDataset(t, BatchingConfig{MaxFrames: 4000})
	sa := features.DefaultSpecAugment()
	ctx := context.Background()
	get := func(opts LoaderOptions) map[string][]float32 {
		l, err := d.Loader(Train, opts)
		if err != nil {
			t.Fatal(err)
		}
		it := l.Epoch(ctx, 0)
		defer it.Close()
		out := map[string][]float32{}
		for _, b := range collect(t, it, -1) {
			for r, id := range b.IDs {
				out[id] = b.Features[r*b.Frames*b.Bands : r*b.Frames*b.Bands+int(b.FrameLengths[r])*b.Bands]
			}
		}
		return out
	}
	raw := get(LoaderOptions{Unnormalized: true})
	norm := get(LoaderOptions{})
	evalAug := get(LoaderOptions{SpecAugment: &sa}) // not training: no masks
	train := get(LoaderOptions{Training: true, SpecAugment: &sa})
	n := d.Normalization
	masked := 0
	for id, x := range raw {
		cached, err := d.Features(ptrTo(d.Utterances(Train), id), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x, cached.Data) {
			t.Fatalf("%s: unnormalised batch features differ from the cache", id)
		}
		for i, v := range x {
			b := i % 80
			want := (v - n.Mean[b]) / n.Std[b]
			if math.Abs(float64(norm[id][i]-want)) > 1e-4 {
				t.Fatalf("%s value %d: %v, want %v", id, i, norm[id][i], want)
			}
		}
		if !slices.Equal(evalAug[id], norm[id]) {
			t.Errorf("%s: SpecAugment applied outside training", id)
		}
		diff := 0
		for i := range x {
			if train[id][i] != norm[id][i] {
				diff++
				if train[id][i] != 0 {
					t.Fatalf("%s: masked value %v is not 0 (the normalised mean)", id, train[id][i])
				}
			}
		}
		if diff > 0 {
			masked++
		}
	}
	if masked < len(raw)/2 {
		t.Errorf("SpecAugment masked only %d of %d utterances", masked, len(raw))
	}
}

func ptrTo(us []Utterance, id string) *Utterance {
	for i := range us {
		if us[i].ID == id {
			return &us[i]
		}
	}
	return nil
}

func ids(bs []*Batch) []string {
	var s []string
	for _, b := range bs {
		s = append(s, strings.Join(b.IDs, ","))
	}
	return s
}

func TestLoaderOrderIsReproducibleAndResumable(t *testing.T) {
	d := batchDataset(t, BatchingConfig{MaxFrames: 1000, Seed: 11, Prefetch: 3})
	sa := features.DefaultSpecAugment()
	opts := LoaderOptions{Training: true, SpecAugment: &sa}
	l, err := d.Loader(Train, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nb := l.BatchesPerEpoch()
	it := l.Iterate(ctx, Position{})
	full := collect(t, it, 3*nb) // three epochs without a stop
	it.Close()
	if full[nb].Position != (Position{1, 0}) || full[2*nb+1].Position != (Position{2, 1}) {
		t.Errorf("positions %+v %+v", full[nb].Position, full[2*nb+1].Position)
	}
	e0, e1 := ids(full[:nb]), ids(full[nb:2*nb])
	if slices.Equal(e0, e1) {
		t.Error("epochs 0 and 1 have the same order")
	}
	sorted0, sorted1 := slices.Clone(e0), slices.Clone(e1)
	sort.Strings(sorted0)
	sort.Strings(sorted1)
	if slices.Equal(sorted0, sorted1) && slices.Equal(e0, e1) {
		t.Error("no reshuffling")
	}

	// Stop mid-epoch 1, save the position, resume with a new loader.
	it = l.Iterate(ctx, Position{})
	part := collect(t, it, nb+2)
	pos := it.Position()
	it.Close()
	if pos != (Position{1, 2}) {
		t.Fatalf("saved position %+v", pos)
	}
	l2, err := d.Loader(Train, opts)
	if err != nil {
		t.Fatal(err)
	}
	it2 := l2.Iterate(ctx, pos)
	rest := collect(t, it2, 2*nb-2)
	it2.Close()
	resumed := append(part, rest...)
	for i := range full {
		a, b := full[i], resumed[i]
		if a.Position != b.Position || !slices.Equal(a.IDs, b.IDs) || !slices.Equal(a.Features, b.Features) || !slices.Equal(a.Labels, b.Labels) {
			t.Fatalf("batch %d differs after resuming (%+v vs %+v)", i, a.Position, b.Position)
		}
	}

	// Another seed gives another order; evaluation order is fixed.
	d.Config.Batching.Seed = 12
	l3, _ := d.Loader(Train, opts)
	it3 := l3.Epoch(ctx, 0)
	other := collect(t, it3, -1)
	it3.Close()
	if slices.Equal(ids(other), e0) {
		t.Error("the seed does not change the order")
	}
	le, _ := d.Loader(Train, LoaderOptions{})
	var evals [][]string
	for e := 0; e < 2; e++ {
		it := le.Epoch(ctx, e)
		evals = append(evals, ids(collect(t, it, -1)))
		it.Close()
	}
	if !slices.Equal(evals[0], evals[1]) {
		t.Error("evaluation order changes between epochs")
	}
}

func TestLoaderErrorsAndCancel(t *testing.T) {
	d := batchDataset(t, BatchingConfig{Buckets: []int{300, 600}})
	if _, err := d.Loader(Train, LoaderOptions{}); err == nil || !strings.Contains(err.Error(), "longer than the largest bucket") || !strings.Contains(err.Error(), "LJ001-0001") {
		t.Errorf("short buckets: %v", err)
	}
	d.Config.Batching.Buckets = []int{302, 1000}
	if _, err := d.Loader(Train, LoaderOptions{}); err == nil || !strings.Contains(err.Error(), "multiple of the model's subsampling") {
		t.Errorf("odd bucket: %v", err)
	}
	if _, err := d.Loader(Val, LoaderOptions{}); err == nil || !strings.Contains(err.Error(), "val set is empty") {
		t.Errorf("empty set: %v", err)
	}
	d.Config.Batching.Buckets = nil
	l, err := d.Loader(Train, LoaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	it := l.Iterate(ctx, Position{})
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for i := 0; i < 20; i++ {
		if _, err := it.Next(); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("after cancel: %v", err)
			}
			break
		}
	}
	it.Close()
	// Close without reading anything does not hang.
	l.Iterate(context.Background(), Position{Epoch: 3}).Close()
}

func TestDefaultBuckets(t *testing.T) {
	b := DefaultBuckets(16.7, 100)
	if b[0] != 160 || b[len(b)-1] != 1680 || len(b) != 11 {
		t.Errorf("DefaultBuckets(16.7, 100) = %v", b)
	}
	for _, f := range b {
		if f%16 != 0 {
			t.Errorf("bucket %d not a multiple of 16", f)
		}
	}
}
