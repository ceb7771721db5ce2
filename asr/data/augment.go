package data

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/asrkit/asrkit/asr/features"
)

// Copy is one cached version of a training utterance: the clean audio, or a
// perturbed copy of it (datasets.augment).
type Copy struct {
	// Key names the copy's cache entry: the utterance id for the clean copy,
	// else the id, "~" and a hash of the perturbation.
	Key string `json:"key"`
	// Perturbation is what was done to the audio; the zero value is none.
	Perturbation Perturbation `json:"perturbation"`
	// Frames and Duration are the copy's feature frames and audio seconds,
	// known once its features are cached.
	Frames   int     `json:"frames,omitempty"`
	Duration float64 `json:"duration,omitempty"`
}

// Perturbation describes how a copy's audio was changed.
type Perturbation struct {
	// Speed is the speed factor (1 or 0: unchanged).
	Speed float64 `json:"speed,omitempty"`
	// Noise is the noise colour ("white", "pink" or "brown"; "" for none)
	// and SNR its signal-to-noise ratio in dB.
	Noise string  `json:"noise,omitempty"`
	SNR   float64 `json:"snr,omitempty"`
	// RT60 is the reverberation time in seconds of the room impulse
	// response the audio was convolved with (0: none).
	RT60 float64 `json:"rt60,omitempty"`
	// Seed seeds the noise and the impulse response.
	Seed uint64 `json:"seed,omitempty"`
}

// IsZero reports whether p leaves the audio unchanged.
func (p Perturbation) IsZero() bool {
	return (p.Speed == 0 || p.Speed == 1) && p.Noise == "" && p.RT60 == 0
}

// String describes p briefly, e.g. "speed 0.9, pink noise 17 dB, RT60 0.41 s".
func (p Perturbation) String() string {
	if p.IsZero() {
		return "clean"
	}
	s := ""
	add := func(f string, a ...any) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf(f, a...)
	}
	if p.Speed != 0 && p.Speed != 1 {
		add("speed %g", p.Speed)
	}
	if p.RT60 > 0 {
		add("RT60 %.2f s", p.RT60)
	}
	if p.Noise != "" {
		add("%s noise %.0f dB", p.Noise, p.SNR)
	}
	return s
}

// copies returns the copies of a training utterance under a (with its
// defaults filled in): one per speed factor, each with noise and
// reverberation drawn with a's probabilities from a generator seeded by the
// utterance id and the copy's index.
func (a AugmentConfig) copies(id string) []Copy {
	if !a.Enabled() {
		return []Copy{{Key: id}}
	}
	out := make([]Copy, 0, len(a.Speeds))
	for k, speed := range a.Speeds {
		h := sha256.Sum256([]byte(fmt.Sprintf("asrkit augment\x00%s\x00%d", id, k)))
		r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
		p := Perturbation{Speed: speed, Seed: binary.LittleEndian.Uint64(h[16:24]) | 1}
		if r.Float64() < a.Reverb {
			p.RT60 = round2(a.ReverbRT60[0] + (a.ReverbRT60[1]-a.ReverbRT60[0])*r.Float64())
		}
		if r.Float64() < a.Noise {
			p.Noise = [...]string{"white", "pink", "brown"}[r.IntN(3)]
			p.SNR = round2(a.NoiseSNR[0] + (a.NoiseSNR[1]-a.NoiseSNR[0])*r.Float64())
		}
		if p.IsZero() {
			out = append(out, Copy{Key: id})
			continue
		}
		ph := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%v\x00%s\x00%v\x00%v\x00%d", id, p.Speed, p.Noise, p.SNR, p.RT60, p.Seed)))
		out = append(out, Copy{Key: fmt.Sprintf("%s~%x", id, ph[:6]), Perturbation: p})
	}
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Perturb returns a perturbed copy of x, audio at rate Hz: resampled for
// the speed factor, convolved with a synthetic room impulse response, then
// mixed with noise, in that order (noise is not reverberated, as a
// microphone's own noise would not be). The result is scaled down if it
// would clip. x is not modified.
func Perturb(x []float32, rate int, p Perturbation) ([]float32, error) {
	y := x
	if p.Speed != 0 && p.Speed != 1 {
		from := int(math.Round(float64(rate) * p.Speed))
		var err error
		if y, err = features.Resample(x, from, rate); err != nil {
			return nil, fmt.Errorf("speed %g: %w", p.Speed, err)
		}
	} else {
		y = append([]float32(nil), x...)
	}
	if len(y) == 0 {
		return y, nil
	}
	if p.RT60 > 0 {
		y = reverberate(y, rate, p.RT60, p.Seed)
	}
	if p.Noise != "" {
		addNoise(y, p.Noise, p.SNR, p.Seed)
	}
	var peak float32
	for _, v := range y {
		peak = max(peak, v, -v)
	}
	if peak > 0.99 {
		s := 0.99 / peak
		for i := range y {
			y[i] *= s
		}
	}
	return y, nil
}

// rirSeconds caps the impulse response's length.
const rirSeconds = 1.0

// roomImpulse returns a synthetic room impulse response at rate Hz: a unit
// direct path, then after a short pre-delay a diffuse tail of Gaussian noise
// decaying by 60 dB over rt60 seconds, scaled so the reverberant energy is
// about that of the direct path times rt60 / 0.3 (louder tails in more
// reverberant rooms, as the direct-to-reverberant ratio falls).
func roomImpulse(rate int, rt60 float64, seed uint64) []float64 {
	n := int(math.Min(rt60, rirSeconds) * float64(rate))
	pre := rate / 200 // 5 ms
	h := make([]float64, pre+n)
	h[0] = 1
	r := rand.New(rand.NewPCG(seed, 0x72697200))
	decay := math.Log(1000) / (rt60 * float64(rate)) // amplitude falls 60 dB over rt60
	var e float64
	for i := 0; i < n; i++ {
		v := r.NormFloat64() * math.Exp(-decay*float64(i))
		h[pre+i] = v
		e += v * v
	}
	if e > 0 {
		g := math.Sqrt(math.Min(rt60/0.3, 2) / e)
		for i := pre; i < len(h); i++ {
			h[i] *= g
		}
	}
	return h
}

// reverberate convolves x with a room impulse response (by FFT) and keeps
// the input's length and RMS level.
func reverberate(x []float32, rate int, rt60 float64, seed uint64) []float32 {
	h := roomImpulse(rate, rt60, seed)
	n := 1
	for n < len(x)+len(h)-1 {
		n <<= 1
	}
	fft := fourier.NewFFT(n)
	a := make([]float64, n)
	for i, v := range x {
		a[i] = float64(v)
	}
	b := make([]float64, n)
	copy(b, h)
	fa := fft.Coefficients(nil, a)
	fb := fft.Coefficients(nil, b)
	for i := range fa {
		fa[i] *= fb[i]
	}
	y := fft.Sequence(a, fa)
	var ex, ey float64
	for i, v := range x {
		ex += float64(v) * float64(v)
		ey += y[i] * y[i] / float64(n) / float64(n)
	}
	g := 1 / float64(n)
	if ey > 0 {
		g *= math.Sqrt(ex / ey)
	}
	out := make([]float32, len(x))
	for i := range out {
		out[i] = float32(y[i] * g)
	}
	return out
}

// addNoise adds coloured Gaussian noise to x in place at snr dB below x's
// mean power.
func addNoise(x []float32, colour string, snr float64, seed uint64) {
	var pow float64
	for _, v := range x {
		pow += float64(v) * float64(v)
	}
	pow /= float64(len(x))
	if pow == 0 {
		return
	}
	r := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	noise := make([]float64, len(x))
	var b0, b1, b2, brown, npow float64
	for i := range noise {
		w := r.NormFloat64()
		v := w
		switch colour {
		case "pink": // Paul Kellet's economy pink filter
			b0 = 0.99765*b0 + w*0.0990460
			b1 = 0.96300*b1 + w*0.2965164
			b2 = 0.57000*b2 + w*1.0526913
			v = b0 + b1 + b2 + w*0.1848
		case "brown": // leaky integration of white noise
			brown = 0.995*brown + 0.1*w
			v = brown
		}
		noise[i] = v
		npow += v * v
	}
	npow /= float64(len(x))
	if npow == 0 {
		return
	}
	k := math.Sqrt(pow / npow / math.Pow(10, snr/10))
	for i := range x {
		x[i] += float32(k * noise[i])
	}
}
