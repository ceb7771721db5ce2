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
// sequence. The complex FFT is an iterative decimation in time on
// bit-reversed input, with pairs of radix-2 stages fused into radix-4 passes
// and per-stage twiddle tables (unit stride).
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
	// Stages are combined in pairs (h, 2h) into radix-4 passes: one pass
	// over memory instead of two. The first pass (h = 1) has the trivial
	// twiddles 1 and -i.
	h := 1
	if m >= 4 {
		for i := 0; i+3 < m; i += 4 {
			a0r, a0i := re[i], im[i]
			a1r, a1i := re[i+1], im[i+1]
			a2r, a2i := re[i+2], im[i+2]
			a3r, a3i := re[i+3], im[i+3]
			b0r, b0i := a0r+a1r, a0i+a1i
			b1r, b1i := a0r-a1r, a0i-a1i
			b2r, b2i := a2r+a3r, a2i+a3i
			b3r, b3i := a2i-a3i, a3r-a2r // -i·(a2 - a3)
			re[i], im[i] = b0r+b2r, b0i+b2i
			re[i+2], im[i+2] = b0r-b2r, b0i-b2i
			re[i+1], im[i+1] = b1r+b3r, b1i+b3i
			re[i+3], im[i+3] = b1r-b3r, b1i-b3i
		}
		h = 4
	}
	for ; 4*h <= m; h *= 4 {
		w1r, w1i := f.twRe[h-1:2*h-1], f.twIm[h-1:2*h-1]     // stage h: e^{-iπk/h}
		w2r, w2i := f.twRe[2*h-1:3*h-1], f.twIm[2*h-1:3*h-1] // stage 2h: e^{-iπk/2h}, k < h
		for s := 0; s < m; s += 4 * h {
			x0r, x0i := re[s:s+h], im[s:s+h]
			x1r, x1i := re[s+h:s+2*h], im[s+h:s+2*h]
			x2r, x2i := re[s+2*h:s+3*h], im[s+2*h:s+3*h]
			x3r, x3i := re[s+3*h:s+4*h], im[s+3*h:s+4*h]
			// Equal lengths let the compiler drop the bounds checks.
			n := len(x0r)
			x0i, x1r, x1i, x2r, x2i, x3r, x3i = x0i[:n], x1r[:n], x1i[:n], x2r[:n], x2i[:n], x3r[:n], x3i[:n]
			w1r, w1i, w2r, w2i := w1r[:n], w1i[:n], w2r[:n], w2i[:n]
			for k := range n {
				ar, ai := w1r[k], w1i[k]
				// Stage h: (x0, x1) and (x2, x3) with twiddle w1.
				t1r := x1r[k]*ar - x1i[k]*ai
				t1i := x1r[k]*ai + x1i[k]*ar
				t3r := x3r[k]*ar - x3i[k]*ai
				t3i := x3r[k]*ai + x3i[k]*ar
				b0r, b0i := x0r[k]+t1r, x0i[k]+t1i
				b1r, b1i := x0r[k]-t1r, x0i[k]-t1i
				b2r, b2i := x2r[k]+t3r, x2i[k]+t3i
				b3r, b3i := x2r[k]-t3r, x2i[k]-t3i
				// Stage 2h: (b0, b2) with w2 and (b1, b3) with w2·(-i).
				cr, ci := w2r[k], w2i[k]
				u2r := b2r*cr - b2i*ci
				u2i := b2r*ci + b2i*cr
				u3r := b3r*cr - b3i*ci
				u3i := b3r*ci + b3i*cr
				u3r, u3i = u3i, -u3r
				x0r[k], x0i[k] = b0r+u2r, b0i+u2i
				x2r[k], x2i[k] = b0r-u2r, b0i-u2i
				x1r[k], x1i[k] = b1r+u3r, b1i+u3i
				x3r[k], x3i[k] = b1r-u3r, b1i-u3i
			}
		}
	}
	if h < m { // one radix-2 stage left (log2 m odd)
		twr, twi := f.twRe[h-1:2*h-1], f.twIm[h-1:2*h-1]
		for start := 0; start < m; start += 2 * h {
			ar, ai := re[start:start+h], im[start:start+h]
			br, bi := re[start+h:start+2*h], im[start+h:start+2*h]
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
