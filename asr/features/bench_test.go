package features

import (
	"math/rand/v2"
	"testing"

	godsp "github.com/mjibson/go-dsp/fft"
	"gonum.org/v1/gonum/dsp/fourier"
)

func noise(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, seed))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	return x
}

// BenchmarkFFT compares real-input power spectra: this package's float32
// radix-2 real FFT ("own", powers of two only), gonum's dsp/fourier (FFTPACK,
// float64, allocation-free), and go-dsp (float64, allocates per call), at the
// default n_fft 512 and Whisper's 400.
func BenchmarkFFT(b *testing.B) {
	for _, n := range []int{512, 400} {
		x32 := noise(n, 1)
		x64 := make([]float64, n)
		for i, v := range x32 {
			x64[i] = float64(v)
		}
		out := make([]float32, n/2+1)
		if n&(n-1) == 0 {
			b.Run("own/"+itoa(n), func(b *testing.B) {
				f := newRealFFT(n)
				w := f.newWork()
				b.ReportAllocs()
				for b.Loop() {
					f.power(x32, out, w)
				}
			})
		}
		b.Run("gonum/"+itoa(n), func(b *testing.B) {
			f := fourier.NewFFT(n)
			coef := make([]complex128, n/2+1)
			b.ReportAllocs()
			for b.Loop() {
				f.Coefficients(coef, x64)
				for k, c := range coef {
					out[k] = float32(real(c)*real(c) + imag(c)*imag(c))
				}
			}
		})
		b.Run("go-dsp/"+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := godsp.FFTReal(x64)
				for k := range out {
					out[k] = float32(real(c[k])*real(c[k]) + imag(c[k])*imag(c[k]))
				}
			}
		})
	}
}

// BenchmarkFrame is one log-mel frame in the steady state (no allocation).
func BenchmarkFrame(b *testing.B) {
	e := newTestExtractor(b, Config{})
	x := noise(16000, 2)
	s := e.scratch.Get().(*frameScratch)
	out := make([]float32, 80)
	b.ReportAllocs()
	t := 0
	for b.Loop() {
		e.frameInto(x, e.windowStart(t%100+1), s, out)
		t++
	}
}

// BenchmarkExtract is log-mel extraction of 60 s of 16 kHz audio with the
// defaults; audio-s/s is seconds of audio per second of compute. OneCore
// runs the same frames on one goroutine.
func BenchmarkExtract(b *testing.B) {
	const seconds = 60
	e := newTestExtractor(b, Config{})
	x := noise(16000*seconds, 3)
	b.Run("AllCores", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Compute(x); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "audio-s/s")
	})
	b.Run("OneCore", func(b *testing.B) {
		m := &LogMel{Data: make([]float32, e.NumFrames(len(x))*80), Frames: e.NumFrames(len(x)), Bands: 80}
		b.ReportAllocs()
		for b.Loop() {
			e.frames(x, m, 0, m.Frames)
		}
		b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "audio-s/s")
	})
}

// BenchmarkResample is 10 s of LJSpeech-rate audio (22.05 kHz) to 16 kHz.
func BenchmarkResample(b *testing.B) {
	const seconds = 10
	for _, from := range []int{22050, 44100, 48000} {
		x := noise(from*seconds, 4)
		b.Run(itoa(from)+"to16000", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Resample(x, from, 16000); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "audio-s/s")
		})
	}
}
