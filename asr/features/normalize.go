package features

import (
	"errors"
	"fmt"
	"math"
)

// MinStd is the smallest standard deviation a [Normalization] uses: a band
// with (nearly) constant values, such as one that is always at the log
// floor, would otherwise be divided by zero.
const MinStd = 1e-5

// Stats accumulates per-band means and variances of log-mel features over
// many utterances (Chan et al.'s parallel algorithm, in float64), for the
// global (per-band) normalisation the models use. Stats from separate
// goroutines or shards combine with Merge. The zero value is not usable:
// call NewStats.
type Stats struct {
	// Count is the number of frames added.
	Count int64
	// Mean and M2 (the sum of squared deviations from the mean) per band.
	Mean, M2 []float64
}

// NewStats returns empty statistics for the given number of bands.
func NewStats(bands int) *Stats {
	return &Stats{Mean: make([]float64, bands), M2: make([]float64, bands)}
}

// Add accumulates every frame of m.
func (s *Stats) Add(m *LogMel) error {
	if m.Bands != len(s.Mean) {
		return fmt.Errorf("features: stats over %d bands cannot add features of %d bands", len(s.Mean), m.Bands)
	}
	if m.Frames == 0 {
		return nil
	}
	// Per-utterance mean and M2 (two passes, stable), then merge.
	u := NewStats(m.Bands)
	u.Count = int64(m.Frames)
	for t := range m.Frames {
		for b, v := range m.Frame(t) {
			u.Mean[b] += float64(v)
		}
	}
	for b := range u.Mean {
		u.Mean[b] /= float64(m.Frames)
	}
	for t := range m.Frames {
		for b, v := range m.Frame(t) {
			d := float64(v) - u.Mean[b]
			u.M2[b] += d * d
		}
	}
	return s.Merge(u)
}

// Merge adds the statistics of o to s.
func (s *Stats) Merge(o *Stats) error {
	if len(o.Mean) != len(s.Mean) || len(o.M2) != len(s.M2) {
		return fmt.Errorf("features: cannot merge stats over %d bands into stats over %d", len(o.Mean), len(s.Mean))
	}
	if o.Count == 0 {
		return nil
	}
	n, no := float64(s.Count), float64(o.Count)
	total := n + no
	for b := range s.Mean {
		d := o.Mean[b] - s.Mean[b]
		s.Mean[b] += d * no / total
		s.M2[b] += o.M2[b] + d*d*n*no/total
	}
	s.Count += o.Count
	return nil
}

// Normalization returns the per-band means and standard deviations
// (population variance, floored at MinStd). It needs at least two frames.
func (s *Stats) Normalization() (Normalization, error) {
	if s.Count < 2 {
		return Normalization{}, fmt.Errorf("features: normalisation statistics need at least 2 frames, have %d", s.Count)
	}
	n := Normalization{Mean: make([]float32, len(s.Mean)), Std: make([]float32, len(s.Mean))}
	for b := range s.Mean {
		n.Mean[b] = float32(s.Mean[b])
		n.Std[b] = float32(max(math.Sqrt(s.M2[b]/float64(s.Count)), MinStd))
	}
	return n, nil
}

// Normalization is a global per-band normalisation, (x − Mean[b]) / Std[b],
// estimated on a training set and stored with the model. It marshals to JSON
// as {"mean": [...], "std": [...]}.
type Normalization struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
}

// Validate checks that the normalisation is usable: equal, non-zero lengths,
// finite means and positive finite standard deviations.
func (n Normalization) Validate() error {
	var errs []error
	if len(n.Mean) == 0 || len(n.Mean) != len(n.Std) {
		errs = append(errs, fmt.Errorf("normalization: %d means and %d standard deviations", len(n.Mean), len(n.Std)))
	}
	for b, v := range n.Mean {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			errs = append(errs, fmt.Errorf("normalization: mean of band %d is %v", b, v))
		}
	}
	for b, v := range n.Std {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			errs = append(errs, fmt.Errorf("normalization: std of band %d is %v", b, v))
		}
	}
	return errors.Join(errs...)
}

// Apply normalises m in place.
func (n Normalization) Apply(m *LogMel) error {
	if m.Bands != len(n.Mean) || len(n.Std) != len(n.Mean) {
		return fmt.Errorf("features: normalisation for %d bands applied to features of %d bands", len(n.Mean), m.Bands)
	}
	inv := make([]float32, len(n.Std))
	for b, s := range n.Std {
		inv[b] = 1 / s
	}
	for t := range m.Frames {
		row := m.Frame(t)
		for b := range row {
			row[b] = (row[b] - n.Mean[b]) * inv[b]
		}
	}
	return nil
}
