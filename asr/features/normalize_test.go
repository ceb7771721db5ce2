package features

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomLogMel(rng *rand.Rand, frames, bands int) *LogMel {
	m := &LogMel{Data: make([]float32, frames*bands), Frames: frames, Bands: bands}
	for t := range frames {
		for b := range bands {
			m.Data[t*bands+b] = float32(float64(b) - 10 + float64(b+1)*rng.NormFloat64())
		}
	}
	return m
}

func TestStatsMatchDirectComputation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var all []*LogMel
	for _, frames := range []int{1, 7, 300, 1000, 0} {
		all = append(all, randomLogMel(rng, frames, 4))
	}
	// Sequential adds, and the same split across two merged shards.
	s := NewStats(4)
	a, b := NewStats(4), NewStats(4)
	for i, m := range all {
		if err := s.Add(m); err != nil {
			t.Fatal(err)
		}
		shard := a
		if i%2 == 1 {
			shard = b
		}
		shard.Add(m)
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	// Direct two-pass float64 over all frames.
	for band := range 4 {
		var sum, n float64
		for _, m := range all {
			for t := range m.Frames {
				sum += float64(m.Frame(t)[band])
				n++
			}
		}
		mean := sum / n
		var ss float64
		for _, m := range all {
			for t := range m.Frames {
				d := float64(m.Frame(t)[band]) - mean
				ss += d * d
			}
		}
		std := math.Sqrt(ss / n)
		for name, st := range map[string]*Stats{"sequential": s, "merged": a} {
			norm, err := st.Normalization()
			if err != nil {
				t.Fatal(err)
			}
			if st.Count != int64(n) || math.Abs(float64(norm.Mean[band])-mean) > 1e-5 || math.Abs(float64(norm.Std[band])-std) > 1e-5 {
				t.Errorf("%s band %d: count %d mean %g std %g, want %g %g %g", name, band, st.Count, norm.Mean[band], norm.Std[band], n, mean, std)
			}
		}
	}
}

func TestNormalizationApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	m := randomLogMel(rng, 500, 3)
	s := NewStats(3)
	s.Add(m)
	n, err := s.Normalization()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Apply(m); err != nil {
		t.Fatal(err)
	}
	after := NewStats(3)
	after.Add(m)
	for b := range 3 {
		if math.Abs(after.Mean[b]) > 1e-5 || math.Abs(after.M2[b]/float64(after.Count)-1) > 1e-4 {
			t.Errorf("band %d after Apply: mean %g, variance %g; want 0, 1", b, after.Mean[b], after.M2[b]/float64(after.Count))
		}
	}
	// JSON round trip, as stored with a model.
	js, _ := json.Marshal(n)
	if !strings.HasPrefix(string(js), `{"mean":[`) {
		t.Errorf("JSON %s", js)
	}
	var back Normalization
	if err := json.Unmarshal(js, &back); err != nil || back.Validate() != nil || back.Mean[2] != n.Mean[2] || back.Std[1] != n.Std[1] {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestNormalizationErrors(t *testing.T) {
	if _, err := NewStats(2).Normalization(); err == nil {
		t.Error("empty stats: no error")
	}
	if err := NewStats(2).Add(&LogMel{Bands: 3, Frames: 1, Data: make([]float32, 3)}); err == nil {
		t.Error("band mismatch in Add: no error")
	}
	if err := NewStats(2).Merge(NewStats(3)); err == nil {
		t.Error("band mismatch in Merge: no error")
	}
	if err := (Normalization{Mean: []float32{0}, Std: []float32{1}}).Apply(&LogMel{Bands: 2}); err == nil {
		t.Error("band mismatch in Apply: no error")
	}
	bad := Normalization{Mean: []float32{float32(math.NaN()), 0}, Std: []float32{1, 0}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "mean of band 0") || !strings.Contains(err.Error(), "std of band 1") {
		t.Errorf("Validate: %v", err)
	}
	// A constant band gets the floor, not a division by zero.
	s := NewStats(1)
	s.Add(&LogMel{Data: []float32{-16, -16, -16}, Frames: 3, Bands: 1})
	if n, _ := s.Normalization(); n.Std[0] != MinStd {
		t.Errorf("constant band std %g, want MinStd", n.Std[0])
	}
}

func TestSpecAugment(t *testing.T) {
	ones := func() *LogMel {
		m := &LogMel{Data: make([]float32, 400*80), Frames: 400, Bands: 80}
		for i := range m.Data {
			m.Data[i] = 1
		}
		return m
	}
	sa := DefaultSpecAugment()
	m1, m2, m3 := ones(), ones(), ones()
	sa.Apply(m1, rand.New(rand.NewPCG(1, 2)))
	sa.Apply(m2, rand.New(rand.NewPCG(1, 2)))
	sa.Apply(m3, rand.New(rand.NewPCG(3, 4)))
	same, differ := true, false
	for i := range m1.Data {
		same = same && m1.Data[i] == m2.Data[i]
		differ = differ || m1.Data[i] != m3.Data[i]
	}
	if !same || !differ {
		t.Errorf("seeded: same seed same masks = %v, other seed differs = %v", same, differ)
	}
	// Every masked value is 0 and lies in a masked band (whole column) or a
	// masked frame (whole row); widths stay within the limits.
	var bandsMasked, framesMasked int
	for b := range 80 {
		all := true
		for t := range 400 {
			all = all && m1.Frame(t)[b] == 0
		}
		if all {
			bandsMasked++
		}
	}
	for t := range 400 {
		row, all := m1.Frame(t), true
		for _, v := range row {
			all = all && v == 0
		}
		if all {
			framesMasked++
		}
	}
	for _, v := range m1.Data {
		if v != 0 && v != 1 {
			t.Fatalf("value %g", v)
		}
	}
	if bandsMasked == 0 || bandsMasked > 2*27 || framesMasked == 0 || framesMasked > 10*20 {
		t.Errorf("%d bands and %d frames masked; want 1..54 and 1..200", bandsMasked, framesMasked)
	}
	// The zero value changes nothing; invalid settings are errors.
	m := ones()
	if err := (SpecAugment{}).Apply(m, rand.New(rand.NewPCG(1, 1))); err != nil || m.Data[0] != 1 {
		t.Errorf("zero SpecAugment: %v", err)
	}
	if err := (SpecAugment{FreqMasks: -1}).Apply(m, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("negative masks: no error")
	}
	if err := sa.Apply(m, nil); err == nil {
		t.Error("nil rng: no error")
	}
	// Masks wider than the features are clipped, not a panic.
	small := &LogMel{Data: make([]float32, 3*2), Frames: 3, Bands: 2}
	if err := (SpecAugment{FreqMasks: 3, FreqWidth: 50, TimeMasks: 3, TimeWidthFraction: 1}).Apply(small, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Error(err)
	}
}
