package features

import (
	"math"
)

// Mel scales. The Slaney scale (Auditory Toolbox, librosa's default) is linear
// below 1 kHz and logarithmic above; HTK's is 2595·log10(1 + f/700).
const (
	slaneyFSp      = 200.0 / 3 // Hz per mel in the linear part
	slaneyMinLogHz = 1000.0
	slaneyMinLog   = slaneyMinLogHz / slaneyFSp // 15 mel
)

var slaneyLogStep = math.Log(6.4) / 27

// HzToMel converts a frequency in Hz to mel on the Slaney scale, or the HTK
// scale when htk is true (as librosa.hz_to_mel).
func HzToMel(hz float64, htk bool) float64 {
	if htk {
		return 2595 * math.Log10(1+hz/700)
	}
	if hz >= slaneyMinLogHz {
		return slaneyMinLog + math.Log(hz/slaneyMinLogHz)/slaneyLogStep
	}
	return hz / slaneyFSp
}

// MelToHz is the inverse of [HzToMel].
func MelToHz(mel float64, htk bool) float64 {
	if htk {
		return 700 * (math.Pow(10, mel/2595) - 1)
	}
	if mel >= slaneyMinLog {
		return slaneyMinLogHz * math.Exp(slaneyLogStep*(mel-slaneyMinLog))
	}
	return slaneyFSp * mel
}

// filterbank is a mel filterbank stored sparsely: band b has weights[b] on
// FFT bins first[b], first[b]+1, ...
type filterbank struct {
	bins    int // n_fft/2 + 1
	first   []int
	weights [][]float32
	centre  []float64 // centre frequency of each band in Hz
}

// melFilterbank builds the triangular mel filters exactly as librosa.filters.mel
// (which Whisper's mel_filters.npz was made with): the band edges are
// n_mels+2 points equally spaced in mel from f_min to f_max, each filter
// rises from its lower edge to its centre and falls to its upper edge,
// evaluated at the FFT bin frequencies k·sr/n_fft, and with Slaney
// normalisation scaled by 2/(upper - lower edge in Hz). Computed in float64.
// c must have its defaults filled in.
func melFilterbank(c Config) *filterbank {
	htk := c.MelScale == "htk"
	bins := c.NFFT/2 + 1
	n := c.NumMels
	lo, hi := HzToMel(c.FMin, htk), HzToMel(c.FMax, htk)
	edges := make([]float64, n+2)
	for i := range edges {
		// numpy.linspace: start + i·step, with the end point exact.
		edges[i] = MelToHz(lo+float64(i)*(hi-lo)/float64(n+1), htk)
	}
	edges[n+1] = MelToHz(hi, htk)
	fb := &filterbank{bins: bins, first: make([]int, n), weights: make([][]float32, n), centre: make([]float64, n)}
	for b := range n {
		l, ctr, u := edges[b], edges[b+1], edges[b+2]
		fb.centre[b] = ctr
		norm := 1.0
		if c.MelNorm == "slaney" {
			norm = 2 / (u - l)
		}
		var w []float32
		first := -1
		for k := range bins {
			f := float64(k) * float64(c.SampleRate) / float64(c.NFFT)
			lower := (f - l) / (ctr - l)
			upper := (u - f) / (u - ctr)
			v := max(0, min(lower, upper))
			if v > 0 {
				if first < 0 {
					first = k
				}
				// Keep interior zeros (none for triangles) by indexing from first.
				for len(w) < k-first {
					w = append(w, 0)
				}
				w = append(w, float32(v*norm))
			}
		}
		if first < 0 {
			first = 0
		}
		fb.first[b], fb.weights[b] = first, w
	}
	return fb
}

// dense returns the filterbank as a dense [bands][bins] matrix.
func (fb *filterbank) dense() [][]float32 {
	out := make([][]float32, len(fb.weights))
	for b, w := range fb.weights {
		out[b] = make([]float32, fb.bins)
		copy(out[b][fb.first[b]:], w)
	}
	return out
}

// MelFilters returns the mel filterbank of a config as a dense
// [n_mels][n_fft/2+1] matrix: row b holds the weights that band b gives to
// the power of each FFT bin. It equals librosa.filters.mel (and so Whisper's
// mel_filters.npz) for the same parameters.
func MelFilters(c Config) ([][]float32, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return melFilterbank(c.WithDefaults()).dense(), nil
}
