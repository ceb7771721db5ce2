package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// LogMel is a log-mel spectrogram: natural-log mel energies, before any
// normalisation, row-major [Frames][Bands].
type LogMel struct {
	Data   []float32
	Frames int
	Bands  int
}

// Frame returns the bands of frame t (a view into Data).
func (m *LogMel) Frame(t int) []float32 { return m.Data[t*m.Bands : (t+1)*m.Bands] }

// Extractor computes log-mel features for one [Config]. It holds only
// read-only tables (window, FFT twiddles, filterbank) plus a pool of
// per-goroutine scratch space, so one Extractor is safe for concurrent use
// and is best shared.
type Extractor struct {
	cfg     Config // defaults filled in
	window  []float32
	winOff  int // offset of the window inside the n_fft frame
	preemph float32
	logEps  float64
	fb      *filterbank
	spec    spectrum
	scratch sync.Pool // *frameScratch
}

type frameScratch struct {
	frame []float32 // n_fft samples; zero outside the window
	power []float32 // n_fft/2+1
	work  *fftWork
}

// parallelMinFrames is the number of frames from which Compute splits the
// work across GOMAXPROCS goroutines (below, goroutine start-up costs more
// than it saves: a frame takes about 2 µs).
const parallelMinFrames = 2000

// NewExtractor validates cfg and precomputes the window, FFT tables and
// filterbank.
func NewExtractor(cfg Config) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	e := &Extractor{
		cfg:     cfg,
		window:  make([]float32, cfg.WinLength),
		winOff:  (cfg.NFFT - cfg.WinLength) / 2,
		preemph: float32(*cfg.Preemphasis),
		logEps:  cfg.LogGuard,
		fb:      melFilterbank(cfg),
		spec:    newSpectrum(cfg.NFFT),
	}
	a0, a1 := 0.5, 0.5
	if cfg.Window == "hamming" {
		a0, a1 = 0.54, 0.46
	}
	for j := range e.window {
		e.window[j] = float32(a0 - a1*math.Cos(2*math.Pi*float64(j)/float64(cfg.WinLength-1)))
	}
	e.scratch.New = func() any {
		return &frameScratch{
			frame: make([]float32, cfg.NFFT),
			power: make([]float32, cfg.NFFT/2+1),
			work:  e.spec.newWork(),
		}
	}
	return e, nil
}

// Config returns the extractor's config with its defaults filled in.
func (e *Extractor) Config() Config { return e.cfg.WithDefaults() }

// NumFrames returns the number of frames Compute gives for numSamples
// samples: 1 + numSamples/hop (integer division), and 0 for no samples.
// Frame t is centred on sample t·hop.
func (e *Extractor) NumFrames(numSamples int) int {
	if numSamples <= 0 {
		return 0
	}
	return 1 + numSamples/e.cfg.HopLength
}

// Compute returns the log-mel features of samples (mono, at the config's
// sample rate) without dither. Long inputs are split across GOMAXPROCS
// goroutines. Non-finite samples (NaN, ±Inf) are an error.
func (e *Extractor) Compute(samples []float32) (*LogMel, error) {
	if i := firstNonFinite(samples); i >= 0 {
		return nil, fmt.Errorf("features: sample %d is %v", i, samples[i])
	}
	return e.compute(samples), nil
}

// ComputeDithered adds Gaussian noise of standard deviation Config.Dither to
// a copy of samples before computing the features, as NeMo does for
// training. The noise comes from a PCG generator seeded with seed, so the
// same seed gives the same features (a deterministic feature cache).
func (e *Extractor) ComputeDithered(samples []float32, seed uint64) (*LogMel, error) {
	if i := firstNonFinite(samples); i >= 0 {
		return nil, fmt.Errorf("features: sample %d is %v", i, samples[i])
	}
	d := *e.cfg.Dither
	if d == 0 {
		return e.compute(samples), nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float32, len(samples))
	for i, s := range samples {
		x[i] = s + float32(d*rng.NormFloat64())
	}
	return e.compute(x), nil
}

func firstNonFinite(x []float32) int {
	for i, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return i
		}
	}
	return -1
}

func (e *Extractor) compute(x []float32) *LogMel {
	frames := e.NumFrames(len(x))
	bands := e.cfg.NumMels
	m := &LogMel{Data: make([]float32, frames*bands), Frames: frames, Bands: bands}
	workers := runtime.GOMAXPROCS(0)
	if frames < parallelMinFrames || workers < 2 {
		e.frames(x, m, 0, frames)
		return m
	}
	workers = min(workers, frames/(parallelMinFrames/2))
	var wg sync.WaitGroup
	per := (frames + workers - 1) / workers
	for start := 0; start < frames; start += per {
		end := min(start+per, frames)
		wg.Go(func() { e.frames(x, m, start, end) })
	}
	wg.Wait()
	return m
}

// frames computes frames [t0, t1) of m from the whole signal x.
func (e *Extractor) frames(x []float32, m *LogMel, t0, t1 int) {
	s := e.scratch.Get().(*frameScratch)
	defer e.scratch.Put(s)
	for t := t0; t < t1; t++ {
		e.frameInto(x, e.windowStart(t), s, m.Data[t*m.Bands:(t+1)*m.Bands])
	}
}

// windowStart returns the index of the first sample under frame t's window:
// frames are centred on t·hop, with n_fft/2 zero padding before the signal.
func (e *Extractor) windowStart(t int) int {
	return t*e.cfg.HopLength - e.cfg.NFFT/2 + e.winOff
}

// frameInto computes the frame whose window starts at x[start]; samples
// outside x are zeros, and x[0] is pre-emphasised as the first sample of the
// signal, so a caller holding a later part of the signal must keep the
// sample before start. It allocates nothing.
func (e *Extractor) frameInto(x []float32, start int, s *frameScratch, out []float32) {
	cfg := &e.cfg
	win := s.frame[e.winOff : e.winOff+cfg.WinLength]
	a := e.preemph
	n := len(x)
	if start >= 1 && start+len(win) <= n {
		// Interior frame: equal-length slices, no bounds checks per sample.
		cur := x[start : start+len(win)]
		prev := x[start-1 : start-1+len(win)]
		w := e.window[:len(win)]
		prev, w = prev[:len(cur)], w[:len(cur)]
		win = win[:len(cur)]
		for j, c := range cur {
			win[j] = (c - a*prev[j]) * w[j]
		}
	} else {
		for j := range win {
			i := start + j
			var v float32
			switch {
			case i < 0 || i >= n:
			case i == 0:
				v = x[0]
			default:
				v = x[i] - a*x[i-1]
			}
			win[j] = v * e.window[j]
		}
	}
	e.spec.power(s.frame, s.power, s.work)
	p := s.power
	out = out[:len(e.fb.weights)]
	for b, w := range e.fb.weights {
		seg := p[e.fb.first[b]:]
		seg = seg[:len(w)]
		var acc float32
		for k, wk := range w {
			acc += wk * seg[k]
		}
		out[b] = acc
	}
	logEnergies(out, e.logEps)
}
