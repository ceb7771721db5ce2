package features

import (
	"fmt"
	"math"
)

// Resampler design. The filter is a Kaiser-windowed sinc whose passband ends
// at 0.9 and whose stopband starts at 1.0 times the lower of the two Nyquist
// frequencies, with 90 dB design attenuation: at 16 kHz output it is flat
// within 0.001 dB to 7.2 kHz and attenuates 8 kHz and above by more than
// 80 dB (TestResamplerResponse measures both).
const (
	resamplePassband    = 0.90 // passband edge / output Nyquist
	resampleStopband    = 1.00 // stopband edge / output Nyquist
	resampleAttenuation = 90.0 // dB, Kaiser design target
	// Rate pairs whose exact polyphase table would exceed this many
	// coefficients use an oversampled kernel table with linear interpolation.
	resampleMaxTable   = 1 << 21
	resampleOversample = 2048 // kernel table points per input sample (interpolated mode)
)

// Resampler converts a stream of samples from one rate to another with a
// windowed-sinc (Kaiser) polyphase filter. Feed it chunks with Process and
// end with Flush; the concatenated output equals [Resample] of the whole
// input. Output sample n is the input's band-limited value at time n/to
// seconds: there is no delay to compensate. A Resampler is not safe for
// concurrent use; create one per stream (they are cheap for common rates,
// and the filter tables could be shared later if needed).
type Resampler struct {
	from, to int
	l, m     int64     // to/g and from/g, g = gcd(from, to): output n sits at input n·m/l
	half     int       // the kernel spans 2·half input samples
	table    []float32 // exact mode: l phases of 2·half coefficients
	fine     []float32 // interpolated mode: kernel at u = i/oversample, i = 0..half·oversample
	coef     []float32 // interpolated mode: this output's coefficients
	hist     []float32 // input samples base, base+1, ...
	base     int64
	nIn      int64 // input samples received
	nOut     int64 // output samples produced
	flushed  bool
}

// NewResampler returns a resampler from one rate to another (Hz, each from
// MinSampleRate to MaxSampleRate).
func NewResampler(from, to int) (*Resampler, error) {
	for _, r := range []int{from, to} {
		if r < MinSampleRate || r > MaxSampleRate {
			return nil, fmt.Errorf("features: resample: sample rate %d Hz is outside %d to %d", r, MinSampleRate, MaxSampleRate)
		}
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, l: int64(to / g), m: int64(from / g)}
	if from == to {
		return r, nil
	}
	// Band edges as fractions of the input rate.
	nyq := float64(min(from, to)) / 2
	fp, fs := resamplePassband*nyq/float64(from), resampleStopband*nyq/float64(from)
	fc := (fp + fs) / 2 // cutoff (−6 dB) in cycles per input sample
	beta := 0.1102 * (resampleAttenuation - 8.7)
	length := (resampleAttenuation - 7.95) / (2.285 * 2 * math.Pi * (fs - fp))
	r.half = int(math.Ceil(length/2)) + 1
	kernel := func(u float64) float64 { // u in input samples
		a := u / float64(r.half)
		if a <= -1 || a >= 1 {
			return 0
		}
		return 2 * fc * sinc(2*fc*u) * bessI0(beta*math.Sqrt(1-a*a)) / bessI0(beta)
	}
	taps := 2 * r.half
	if r.l*int64(taps) <= resampleMaxTable {
		r.table = make([]float32, int(r.l)*taps)
		for p := range int(r.l) {
			row := r.table[p*taps : (p+1)*taps]
			var sum float64
			c := make([]float64, taps)
			for j := range c {
				// Tap j multiplies input i-half+1+j, at distance u from t.
				c[j] = kernel(float64(p)/float64(r.l) + float64(r.half-1-j))
				sum += c[j]
			}
			for j := range row {
				row[j] = float32(c[j] / sum) // unit gain at DC for every phase
			}
		}
	} else {
		r.fine = make([]float32, r.half*resampleOversample+2)
		for i := range r.fine {
			r.fine[i] = float32(kernel(float64(i) / resampleOversample))
		}
		r.coef = make([]float32, taps)
	}
	r.Reset()
	return r, nil
}

// Reset clears the stream so the resampler can start a new one.
func (r *Resampler) Reset() {
	r.hist = r.hist[:0]
	for range r.half {
		r.hist = append(r.hist, 0) // the zeros before the first sample
	}
	r.base = -int64(r.half)
	r.nIn, r.nOut, r.flushed = 0, 0, false
}

// Delay returns how many input samples the resampler holds back before it can
// produce the output that depends on them (the filter's look-ahead).
func (r *Resampler) Delay() int { return r.half }

// Process appends in to the stream and appends every output sample that is
// now complete to dst, returning the extended slice.
func (r *Resampler) Process(dst, in []float32) []float32 {
	if r.flushed {
		r.Reset()
	}
	if r.from == r.to {
		r.nIn += int64(len(in))
		r.nOut += int64(len(in))
		return append(dst, in...)
	}
	r.hist = append(r.hist, in...)
	r.nIn += int64(len(in))
	dst = r.produce(dst, math.MaxInt64)
	r.compact()
	return dst
}

// Flush ends the stream: it pads the input with zeros and appends the
// remaining output, so that the whole stream gives ceil(n·to/from) samples for
// n input samples. The next Process starts a new stream.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.flushed {
		return dst
	}
	total := (r.nIn*r.l + r.m - 1) / r.m
	if r.from != r.to {
		for range r.half + 1 {
			r.hist = append(r.hist, 0)
		}
		dst = r.produce(dst, total)
	}
	r.flushed = true
	return dst
}

// produce appends outputs while their input is available, up to limit.
func (r *Resampler) produce(dst []float32, limit int64) []float32 {
	taps := 2 * r.half
	end := r.base + int64(len(r.hist)) // one past the last input held
	for r.nOut < limit {
		pos := r.nOut * r.m
		i, p := pos/r.l, pos%r.l
		if i+int64(r.half) >= end {
			break
		}
		if i >= r.nIn && limit == math.MaxInt64 {
			break // never beyond the input before Flush
		}
		start := int(i - int64(r.half) + 1 - r.base)
		x := r.hist[start : start+taps]
		var c []float32
		if r.table != nil {
			c = r.table[int(p)*taps : int(p+1)*taps]
		} else {
			c = r.interpCoef(float64(p) / float64(r.l))
		}
		dst = append(dst, dot(c, x))
		r.nOut++
	}
	return dst
}

// interpCoef fills r.coef for fractional position frac (0 <= frac < 1) from the
// oversampled kernel table, normalised to unit DC gain.
func (r *Resampler) interpCoef(frac float64) []float32 {
	var sum float32
	for j := range r.coef {
		u := math.Abs(frac + float64(r.half-1-j))
		x := u * resampleOversample
		k := int(x)
		w := float32(x - float64(k))
		v := r.fine[k]*(1-w) + r.fine[k+1]*w
		r.coef[j] = v
		sum += v
	}
	for j := range r.coef {
		r.coef[j] /= sum
	}
	return r.coef
}

// compact drops input samples no future output needs.
func (r *Resampler) compact() {
	next := r.nOut * r.m / r.l // input position of the next output
	keep := next - int64(r.half) + 1
	drop := int(keep - r.base)
	if drop > 4096 && drop > len(r.hist)/2 {
		n := copy(r.hist, r.hist[drop:])
		r.hist = r.hist[:n]
		r.base += int64(drop)
	}
}

func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += c[i] * x[i]
		s1 += c[i+1] * x[i+1]
		s2 += c[i+2] * x[i+2]
		s3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Resample converts x from one sample rate to another (see [Resampler]); it
// returns a copy when the rates are equal. The output has ceil(len(x)·to/from)
// samples.
func Resample(x []float32, from, to int) ([]float32, error) {
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, int(int64(len(x))*int64(to)/int64(from))+2)
	out = r.Process(out, x)
	return r.Flush(out), nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessI0 is the modified Bessel function of the first kind, order 0 (power
// series; converges quickly for the arguments a Kaiser window uses).
func bessI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
