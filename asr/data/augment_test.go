package data

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sine(freq float64, rate, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return x
}

// zeroCrossingFreq estimates a sine's frequency from its zero crossings.
func zeroCrossingFreq(x []float32, rate int) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / float64(rate))
}

func power(x []float32) float64 {
	var p float64
	for _, v := range x {
		p += float64(v) * float64(v)
	}
	return p / float64(len(x))
}

func TestPerturbSpeed(t *testing.T) {
	const rate = 16000
	x := sine(440, rate, 2*rate)
	for _, tc := range []struct{ speed float64 }{{0.9}, {1.1}, {1.0}} {
		y, err := Perturb(x, rate, Perturbation{Speed: tc.speed})
		if err != nil {
			t.Fatal(err)
		}
		wantLen := float64(len(x)) / tc.speed
		if math.Abs(float64(len(y))-wantLen) > 2 {
			t.Errorf("speed %v: %d samples, want about %.0f", tc.speed, len(y), wantLen)
		}
		// Resampling changes pitch with tempo: 440 Hz plays at 440·speed.
		mid := y[len(y)/4 : 3*len(y)/4]
		if f := zeroCrossingFreq(mid, rate); math.Abs(f-440*tc.speed) > 2 {
			t.Errorf("speed %v: frequency %.1f Hz, want %.1f", tc.speed, f, 440*tc.speed)
		}
	}
	if !slices.Equal(x, sine(440, rate, 2*rate)) {
		t.Error("input modified")
	}
}

func TestPerturbNoise(t *testing.T) {
	const rate = 16000
	x := sine(300, rate, rate)
	for i := range x {
		x[i] *= 0.1 // low enough that noise at 0 dB does not clip
	}
	for _, colour := range []string{"white", "pink", "brown"} {
		for _, snr := range []float64{0, 10, 30} {
			y, err := Perturb(x, rate, Perturbation{Noise: colour, SNR: snr, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			n := make([]float32, len(x))
			for i := range n {
				n[i] = y[i] - x[i]
			}
			got := 10 * math.Log10(power(x)/power(n))
			if math.Abs(got-snr) > 0.01 {
				t.Errorf("%s noise at %v dB: measured SNR %.3f dB", colour, snr, got)
			}
		}
	}
	a, _ := Perturb(x, rate, Perturbation{Noise: "pink", SNR: 10, Seed: 7})
	b, _ := Perturb(x, rate, Perturbation{Noise: "pink", SNR: 10, Seed: 7})
	c, _ := Perturb(x, rate, Perturbation{Noise: "pink", SNR: 10, Seed: 8})
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("noise is not a function of the seed")
	}
}

func TestPerturbReverb(t *testing.T) {
	const rate = 16000
	// A click in silence: the output is the impulse response, whose energy
	// must fall by about 60 dB over RT60.
	x := make([]float32, 2*rate)
	x[rate/10] = 0.5
	for _, rt60 := range []float64{0.3, 0.6} {
		y, err := Perturb(x, rate, Perturbation{RT60: rt60, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != len(x) {
			t.Fatalf("length %d, want %d", len(y), len(x))
		}
		if math.Abs(power(y)/power(x)-1) > 1e-3 {
			t.Errorf("RT60 %v: power ratio %v, want 1", rt60, power(y)/power(x))
		}
		win := rate / 50 // 20 ms
		at := func(t float64) float64 {
			i := rate/10 + rate/200 + int(t*rate)
			return power(y[i : i+win])
		}
		drop := 10 * math.Log10(at(0.02)/at(0.02+rt60/2))
		if drop < 22 || drop > 38 {
			t.Errorf("RT60 %v: energy fell %.1f dB over RT60/2, want about 30", rt60, drop)
		}
	}
	// A clean perturbation copies.
	y, _ := Perturb(x, rate, Perturbation{})
	if !slices.Equal(x, y) || &x[0] == &y[0] {
		t.Error("a zero Perturbation must return an equal copy")
	}
}

func TestAugmentCopies(t *testing.T) {
	a := AugmentConfig{Speeds: []float64{0.9, 1, 1.1}, Noise: 0.5, Reverb: 0.5}.withDefaults()
	c1, c2 := a.copies("utt-1"), a.copies("utt-1")
	if len(c1) != 3 || !slices.Equal(keys(c1), keys(c2)) {
		t.Fatalf("copies not deterministic: %v vs %v", keys(c1), keys(c2))
	}
	if slices.Equal(keys(c1), keys(a.copies("utt-2"))) {
		t.Error("two utterances share copy keys")
	}
	// Over many utterances, noise and reverberation come at their rates.
	var noisy, reverb, n int
	for i := 0; i < 2000; i++ {
		for _, c := range a.copies(strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)) {
			n++
			if c.Perturbation.Noise != "" {
				noisy++
				if s := c.Perturbation.SNR; s < 10 || s > 30 {
					t.Fatalf("SNR %v outside [10, 30]", s)
				}
			}
			if r := c.Perturbation.RT60; r != 0 {
				reverb++
				if r < 0.2 || r > 0.7 {
					t.Fatalf("RT60 %v outside [0.2, 0.7]", r)
				}
			}
		}
	}
	if f := float64(noisy) / float64(n); math.Abs(f-0.5) > 0.03 {
		t.Errorf("noise in %.3f of copies, want 0.5", f)
	}
	if f := float64(reverb) / float64(n); math.Abs(f-0.5) > 0.03 {
		t.Errorf("reverberation in %.3f of copies, want 0.5", f)
	}
	// Only speed 1 without noise or reverberation is the clean audio.
	clean := AugmentConfig{Speeds: []float64{1, 1.1}}.withDefaults().copies("u")
	if clean[0].Key != "u" || clean[1].Key == "u" || clean[1].Perturbation.Speed != 1.1 {
		t.Errorf("copies %+v", clean)
	}
	if (AugmentConfig{}).Enabled() || (AugmentConfig{Speeds: []float64{1}}).Enabled() {
		t.Error("no augmentation reported as enabled")
	}
}

func keys(cs []Copy) []string {
	var k []string
	for _, c := range cs {
		k = append(k, c.Key)
	}
	return k
}

func TestAugmentAndWeightsValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Augment: AugmentConfig{Speeds: []float64{0.3}}}, "augment.speeds[0] = 0.3"},
		{Config{Augment: AugmentConfig{Noise: 1.5}}, "augment.noise = 1.5"},
		{Config{Augment: AugmentConfig{Reverb: -1}}, "augment.reverb = -1"},
		{Config{Augment: AugmentConfig{NoiseSNR: []float64{30, 10}}}, "augment.noise_snr"},
		{Config{Augment: AugmentConfig{ReverbRT60: []float64{0.5}}}, "augment.reverb_rt60"},
		{Config{Weights: map[string]float64{"a": -1}}, "weights.a = -1"},
		{Config{Weights: map[string]float64{"b": math.NaN()}}, "weights.b = NaN"},
	} {
		tc.cfg.Manifests.Train = "x.jsonl"
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %q", tc.cfg, err, tc.want)
		}
	}
	ok := Config{Manifests: ManifestConfig{Train: "x.jsonl"}, Weights: map[string]float64{"a": 0, "b": 2.5},
		Augment: AugmentConfig{Speeds: []float64{0.9, 1, 1.1}, Noise: 0.3, NoiseSNR: []float64{5, 20}, Reverb: 0.2}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

// augmentedDataset prepares the shared 14-utterance corpus with speed
// perturbation and noise, in its own cache folder.
func augmentedDataset(t *testing.T, weights map[string]float64) *Dataset {
	t.Helper()
	sharedOnce.Do(func() { sharedPath, sharedErr = writeSharedManifest(t) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	cfg := Config{
		Manifests: ManifestConfig{Train: sharedPath},
		CacheDir:  filepath.Join(sharedDir, "cache-augment"),
		Split:     SplitConfig{Val: f64(0), Test: f64(0)},
		Batching:  BatchingConfig{MaxFrames: 2000, Seed: 3},
		Weights:   weights,
		Augment:   AugmentConfig{Speeds: []float64{0.9, 1, 1.1}, Noise: 0.5},
	}
	d, err := Prepare(context.Background(), cfg, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPrepareAugmentedCopies(t *testing.T) {
	d := augmentedDataset(t, nil)
	train := d.Utterances(Train)
	perturbed := 0
	for _, u := range train {
		if len(u.Copies) != 3 {
			t.Fatalf("%s: %d copies, want 3", u.ID, len(u.Copies))
		}
		for _, c := range u.Copies {
			if c.Key != u.ID {
				perturbed++
			}
			want := float64(u.Frames) / c.Perturbation.Speed
			if c.Key == u.ID {
				want = float64(u.Frames)
			}
			if c.Frames != 0 && math.Abs(float64(c.Frames)-want) > 2 {
				t.Errorf("%s %v: %d frames, want about %.0f", u.ID, c.Perturbation, c.Frames, want)
			}
		}
	}
	// The copies were computed by the first Prepare (by this test or
	// another using the same cache); a second one reuses them all.
	d2 := augmentedDataset(t, nil)
	if d2.Build.Augmented != 0 || perturbed < 2*len(train) {
		t.Errorf("second build computed %d copies (want 0); %d perturbed copies", d2.Build.Augmented, perturbed)
	}
	// Features of a copy differ from the clean features.
	u := &train[0]
	clean, err := d.Features(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range u.Copies {
		c := &u.Copies[i]
		m, err := d.copyFeatures(u, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Frames > 0 && m.Frames != c.Frames {
			t.Errorf("copy %s has %d frames, recorded %d", c.Key, m.Frames, c.Frames)
		}
		if c.Key != u.ID && m.Frames == clean.Frames && slices.Equal(m.Data, clean.Data) {
			t.Errorf("copy %s (%v) equals the clean features", c.Key, c.Perturbation)
		}
	}
}

func TestLoaderWeightsAndCopies(t *testing.T) {
	ctx := context.Background()
	count := func(d *Dataset, epochs int) map[string]int {
		l, err := d.Loader(Train, LoaderOptions{Training: true})
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for e := 0; e < epochs; e++ {
			it := l.Epoch(ctx, e)
			bs := collect(t, it, -1)
			it.Close()
			for _, b := range bs {
				for _, id := range b.IDs {
					n[id]++
				}
			}
		}
		return n
	}
	d := augmentedDataset(t, map[string]float64{"ljspeech": 2, "corpus": 0})
	n := count(d, 1)
	for _, u := range d.Utterances(Train) {
		want := 2
		if u.Corpus == "corpus" {
			want = 0
		}
		if n[u.ID] != want {
			t.Errorf("%s (corpus %q): used %d times in an epoch, want %d", u.ID, u.Corpus, n[u.ID], want)
		}
	}
	// Fractional weights: about half of the utterances in each epoch.
	d = augmentedDataset(t, map[string]float64{"ljspeech": 0.5, "corpus": 0.5})
	n = count(d, 20)
	total := 0
	for _, v := range n {
		total += v
	}
	if per := float64(total) / 20 / float64(len(d.Utterances(Train))); math.Abs(per-0.5) > 0.1 {
		t.Errorf("weight 0.5 used %.2f of the utterances per epoch", per)
	}

	// All weights 0: an error, not an endless loop.
	d = augmentedDataset(t, map[string]float64{"ljspeech": 0, "corpus": 0})
	if _, err := d.Loader(Train, LoaderOptions{Training: true}); err == nil || !strings.Contains(err.Error(), "no train utterance") {
		t.Errorf("error %v", err)
	}
	// A weight for a corpus that does not exist is an error.
	cfg := d.Config
	cfg.Weights = map[string]float64{"ljspech": 1}
	if _, err := Prepare(ctx, cfg, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "datasets.weights.ljspech") || !strings.Contains(err.Error(), "corpora: corpus, ljspeech") {
		t.Errorf("misspelt corpus: error %v", err)
	}
}

func TestLoaderWithCopiesResumes(t *testing.T) {
	d := augmentedDataset(t, map[string]float64{"corpus": 1.5})
	l, err := d.Loader(Train, LoaderOptions{Training: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	it := l.Iterate(ctx, Position{})
	var full []*Batch
	for len(full) == 0 || full[len(full)-1].Position.Epoch < 3 {
		b, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, b)
	}
	it.Close()
	// Epochs differ in their rows: other copies, other repeats.
	var epochs [3][]float64
	for _, b := range full {
		if e := b.Position.Epoch; e < 3 {
			epochs[e] = append(epochs[e], b.Seconds)
		}
	}
	if slices.Equal(epochs[0], epochs[1]) {
		t.Error("epochs 0 and 1 have the same batches")
	}
	// Resume from the middle of epoch 1.
	stop := 0
	for i, b := range full {
		if b.Position == (Position{1, 1}) {
			stop = i
		}
	}
	it2 := l.Iterate(ctx, full[stop].Position)
	for i := stop; i < len(full); i++ {
		b, err := it2.Next()
		if err == io.EOF || err != nil {
			t.Fatal(err)
		}
		if b.Position != full[i].Position || !slices.Equal(b.IDs, full[i].IDs) || !slices.Equal(b.Features, full[i].Features) {
			t.Fatalf("batch %d differs after resuming at %+v", i, full[stop].Position)
		}
	}
	it2.Close()
}

func TestLoaderGain(t *testing.T) {
	ctx := context.Background()
	d := batchDataset(t, BatchingConfig{MaxFrames: 2000, Seed: 5})
	first := func(gain []float64, training bool) *Batch {
		t.Helper()
		d.Config.Augment.GainDB = gain
		defer func() { d.Config.Augment.GainDB = nil }()
		l, err := d.Loader(Train, LoaderOptions{Training: training, Unnormalized: true})
		if err != nil {
			t.Fatal(err)
		}
		it := l.Epoch(ctx, 0)
		defer it.Close()
		b, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clean, louder := first(nil, true), first([]float64{6, 6}, true)
	want := float32(6 * math.Ln10 / 10)
	for row := 0; row < clean.Rows; row++ {
		for f := 0; f < clean.Frames; f++ {
			for k := 0; k < clean.Bands; k++ {
				i := (row*clean.Frames+f)*clean.Bands + k
				diff := louder.Features[i] - clean.Features[i]
				if f >= int(clean.FrameLengths[row]) {
					want := float32(0) // padding stays zero
					if diff != want {
						t.Fatalf("row %d frame %d (padding) changed by %v", row, f, diff)
					}
				} else if math.Abs(float64(diff-want)) > 1e-5 {
					t.Fatalf("row %d frame %d band %d: +6 dB moved the log energy by %v, want %v", row, f, k, diff, want)
				}
			}
		}
	}
	// A range draws a gain per row; evaluation never changes the level.
	a, b := first([]float64{-10, 10}, true), first([]float64{-10, 10}, true)
	if !slices.Equal(a.Features, b.Features) || slices.Equal(a.Features, clean.Features) {
		t.Error("random gains are not reproducible, or not applied")
	}
	if e1, e2 := first(nil, false), first([]float64{-10, 10}, false); !slices.Equal(e1.Features, e2.Features) {
		t.Error("gain applied to an evaluation loader")
	}
}
