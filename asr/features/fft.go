package features

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// spectrum computes the power spectrum |X[k]|², k = 0..n/2, of a real frame
// of n samples. Implementations hold precomputed tables only (shared, read
// only); the work buffers come from the caller's scratch space, so one
// spectrum serves all goroutines and a frame allocates nothing.
type spectrum interface {
	// power writes n/2+1 values to out; work must be from newWork.
	power(frame []float32, out []float32, work *fftWork)
	newWork() *fftWork
}

// fftWork is per-goroutine scratch space for a spectrum.
type fftWork struct {
	re, im []float32    // realFFT: the packed half-size complex sequence
	seq    []float64    // gonumFFT: input
	coef   []complex128 // gonumFFT: output
	gonum  *fourier.FFT // gonumFFT: its work arrays make it single-goroutine
}

// newSpectrum picks the real FFT for n: this package's own radix-2 float32
// FFT for powers of two (the fastest measured, see BenchmarkFFT), gonum's
// mixed-radix float64 FFT for any other size.
func newSpectrum(n int) spectrum {
	if n >= 4 && n&(n-1) == 0 {
		return newRealFFT(n)
	}
	return &gonumFFT{n: n}
}

// realFFT is a real-input FFT of a power-of-two size n, computed as a complex
// FFT of size n/2 on the even and odd samples packed as real and imaginary
// parts, followed by the split that recovers the n/2+1 bins of the real
// sequence. The complex FFT is an iterative radix-2 decimation in time with
// per-stage twiddle tables (unit stride).
type realFFT struct {
	n, m    int       // n real points, m = n/2 complex points
	rev     []int32   // bit reversal of 0..m-1
	twRe    []float32 // stage twiddles: stage with half-size h at [h-1 : 2h-1]
	twIm    []float32
	splitRe []float32 // e^{-2πik/n}, k = 0..m-1, for the real split
	splitIm []float32
}

func newRealFFT(n int) *realFFT {
	m := n / 2
	f := &realFFT{n: n, m: m, rev: make([]int32, m)}
	shift := 64 - bits.Len(uint(m-1))
	if m == 1 {
		shift = 64
	}
	for i := range m {
		if shift < 64 {
			f.rev[i] = int32(bits.Reverse64(uint64(i)) >> shift)
		}
	}
	f.twRe = make([]float32, max(m-1, 1))
	f.twIm = make([]float32, max(m-1, 1))
	for h := 1; h < m; h <<= 1 {
		for k := range h {
			s, c := math.Sincos(-math.Pi * float64(k) / float64(h))
			f.twRe[h-1+k], f.twIm[h-1+k] = float32(c), float32(s)
		}
	}
	f.splitRe = make([]float32, m)
	f.splitIm = make([]float32, m)
	for k := range m {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		f.splitRe[k], f.splitIm[k] = float32(c), float32(s)
	}
	return f
}

func (f *realFFT) newWork() *fftWork {
	return &fftWork{re: make([]float32, f.m), im: make([]float32, f.m)}
}

// transform computes the m-point complex FFT of frame's even/odd samples into
// w.re, w.im.
func (f *realFFT) transform(frame []float32, w *fftWork) {
	m := f.m
	re, im := w.re[:m], w.im[:m]
	frame = frame[:2*m]
	rev := f.rev[:m]
	for i, r := range rev {
		re[r] = frame[2*i]
		im[r] = frame[2*i+1]
	}
	// First stage (h = 1): twiddle 1.
	for i := 0; i+1 < m; i += 2 {
		ar, ai, br, bi := re[i], im[i], re[i+1], im[i+1]
		re[i], im[i] = ar+br, ai+bi
		re[i+1], im[i+1] = ar-br, ai-bi
	}
	// Second stage (h = 2): twiddles 1 and -i.
	if m >= 4 {
		for i := 0; i+3 < m; i += 4 {
			ar, ai := re[i], im[i]
			br, bi := re[i+2], im[i+2]
			re[i], im[i] = ar+br, ai+bi
			re[i+2], im[i+2] = ar-br, ai-bi
			cr, ci := re[i+1], im[i+1]
			dr, di := im[i+3], -re[i+3] // (re + i im) * -i
			re[i+1], im[i+1] = cr+dr, ci+di
			re[i+3], im[i+3] = cr-dr, ci-di
		}
	}
	for h := 4; h < m; h <<= 1 {
		twr := f.twRe[h-1 : 2*h-1]
		twi := f.twIm[h-1 : 2*h-1]
		for start := 0; start < m; start += 2 * h {
			ar := re[start : start+h]
			ai := im[start : start+h]
			br := re[start+h : start+2*h]
			bi := im[start+h : start+2*h]
			// Equal lengths let the compiler drop the bounds checks.
			ai, br, bi = ai[:len(ar)], br[:len(ar)], bi[:len(ar)]
			twr, twi := twr[:len(ar)], twi[:len(ar)]
			for k := range ar {
				wr, wi := twr[k], twi[k]
				xr := br[k]*wr - bi[k]*wi
				xi := br[k]*wi + bi[k]*wr
				ur, ui := ar[k], ai[k]
				ar[k], ai[k] = ur+xr, ui+xi
				br[k], bi[k] = ur-xr, ui-xi
			}
		}
	}
}

func (f *realFFT) power(frame []float32, out []float32, w *fftWork) {
	f.transform(frame, w)
	m := f.m
	re, im := w.re[:m], w.im[:m]
	out = out[:m+1]
	// X[0] = Re Z0 + Im Z0, X[m] = Re Z0 - Im Z0 (both real).
	x0 := re[0] + im[0]
	xm := re[0] - im[0]
	out[0], out[m] = x0*x0, xm*xm
	sr, si := f.splitRe[:m], f.splitIm[:m]
	for k := 1; k < m; k++ {
		zr, zi := re[k], im[k]
		cr, ci := re[m-k], -im[m-k]        // conj(Z[m-k])
		er, ei := (zr+cr)*0.5, (zi+ci)*0.5 // even part E[k]
		or, oi := (zi-ci)*0.5, (cr-zr)*0.5 // odd part O[k] = (Z - conj)/(2i)
		tr := or*sr[k] - oi*si[k]
		ti := or*si[k] + oi*sr[k]
		xr, xi := er+tr, ei+ti
		out[k] = xr*xr + xi*xi
	}
}

// gonumFFT is gonum's FFTPACK port, used for sizes that are not powers of two.
type gonumFFT struct{ n int }

func (g *gonumFFT) newWork() *fftWork {
	return &fftWork{seq: make([]float64, g.n), coef: make([]complex128, g.n/2+1), gonum: fourier.NewFFT(g.n)}
}

func (g *gonumFFT) power(frame []float32, out []float32, w *fftWork) {
	for i := range w.seq {
		w.seq[i] = float64(frame[i])
	}
	w.gonum.Coefficients(w.coef, w.seq)
	for k, c := range w.coef {
		out[k] = float32(real(c)*real(c) + imag(c)*imag(c))
	}
}
