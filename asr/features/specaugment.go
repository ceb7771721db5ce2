package features

import (
	"fmt"
	"math/rand/v2"
)

// SpecAugment masks random bands and frames of normalised features for
// training (Park et al., 2019; NeMo's SpectrogramAugmentation without time
// warping). Masked values are set to 0, the mean after normalisation. The
// zero value masks nothing; [DefaultSpecAugment] gives the training defaults
// (NeMo's Conformer-CTC settings).
type SpecAugment struct {
	// FreqMasks is the number of frequency masks.
	FreqMasks int `yaml:"freq_masks" json:"freq_masks"`
	// FreqWidth is the largest width of a frequency mask in bands; each
	// mask's width is uniform in [0, FreqWidth].
	FreqWidth int `yaml:"freq_width" json:"freq_width"`
	// TimeMasks is the number of time masks.
	TimeMasks int `yaml:"time_masks" json:"time_masks"`
	// TimeWidthFraction is the largest width of a time mask as a fraction
	// of the utterance's frames; each mask's width is uniform in
	// [0, floor(fraction·frames)].
	TimeWidthFraction float64 `yaml:"time_width_fraction" json:"time_width_fraction"`
}

// DefaultSpecAugment returns 2 frequency masks of up to 27 bands and 10 time
// masks of up to 5% of the frames (NeMo's Conformer-CTC recipe).
func DefaultSpecAugment() SpecAugment {
	return SpecAugment{FreqMasks: 2, FreqWidth: 27, TimeMasks: 10, TimeWidthFraction: 0.05}
}

// Validate reports settings that cannot be applied.
func (s SpecAugment) Validate() error {
	if s.FreqMasks < 0 || s.FreqWidth < 0 || s.TimeMasks < 0 || !(s.TimeWidthFraction >= 0 && s.TimeWidthFraction <= 1) {
		return fmt.Errorf("spec_augment: counts and widths must be non-negative and time_width_fraction in [0, 1]: %+v", s)
	}
	return nil
}

// Apply masks m in place with masks drawn from rng, so a seeded rng gives the
// same masks. Masks may overlap; a frequency mask wider than the features is
// clipped to them.
func (s SpecAugment) Apply(m *LogMel, rng *rand.Rand) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("spec_augment: nil random generator")
	}
	if m.Frames == 0 || m.Bands == 0 {
		return nil
	}
	for range s.FreqMasks {
		w := rng.IntN(min(s.FreqWidth, m.Bands) + 1)
		f0 := rng.IntN(m.Bands - w + 1)
		for t := range m.Frames {
			clear(m.Frame(t)[f0 : f0+w])
		}
	}
	maxW := int(s.TimeWidthFraction * float64(m.Frames))
	for range s.TimeMasks {
		w := rng.IntN(maxW + 1)
		t0 := rng.IntN(m.Frames - w + 1)
		clear(m.Data[t0*m.Bands : (t0+w)*m.Bands])
	}
	return nil
}
