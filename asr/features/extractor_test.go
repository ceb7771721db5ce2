package features

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

func TestMelFiltersMatchWhisper(t *testing.T) {
	ref := readNPZ(t, testutil.Path(t, "reference", "mel_filters.npz"))
	for _, bands := range []int{80, 128} {
		want := ref["mel_"+itoa(bands)]
		got, err := MelFilters(Config{NFFT: 400, NumMels: bands})
		if err != nil {
			t.Fatal(err)
		}
		if len(got)*201 != len(want) {
			t.Fatalf("%d bands: got %d×%d, reference holds %d values", bands, len(got), len(got[0]), len(want))
		}
		var worst float64
		for b, row := range got {
			for k, v := range row {
				worst = max(worst, math.Abs(float64(v-want[b*201+k])))
			}
		}
		t.Logf("%d bands: largest difference %.3g", bands, worst)
		if worst > 1e-6 {
			t.Errorf("%d bands: largest difference from Whisper's filterbank %g > 1e-6", bands, worst)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestMelScales(t *testing.T) {
	tests := []struct {
		hz, mel float64
		htk     bool
	}{
		{0, 0, false}, {1000, 15, false}, {6400, 42, false}, {200, 3, false},
		{0, 0, true}, {700, 2595 * math.Log10(2), true}, {8000, 2840.0230, true},
	}
	for _, tt := range tests {
		if got := HzToMel(tt.hz, tt.htk); math.Abs(got-tt.mel) > 1e-4 {
			t.Errorf("HzToMel(%g, htk=%v) = %g, want %g", tt.hz, tt.htk, got, tt.mel)
		}
		if got := MelToHz(tt.mel, tt.htk); math.Abs(got-tt.hz) > 1e-2 {
			t.Errorf("MelToHz(%g, htk=%v) = %g, want %g", tt.mel, tt.htk, got, tt.hz)
		}
	}
	// HTK filters peak at 1 (no norm) and tile the band.
	fb, err := MelFilters(Config{MelScale: "htk", MelNorm: "none"})
	if err != nil {
		t.Fatal(err)
	}
	for b, row := range fb {
		var peak float32
		for _, v := range row {
			peak = max(peak, v)
		}
		if peak <= 0 || peak > 1 {
			t.Errorf("htk band %d peaks at %g", b, peak)
		}
	}
}

// naiveFFTPower is the textbook O(n²) DFT power spectrum in float64.
func naiveFFTPower(x []float64) []float64 {
	n := len(x)
	out := make([]float64, n/2+1)
	for k := range out {
		var s complex128
		for j, v := range x {
			s += complex(v, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(j*k%n)/float64(n)))
		}
		out[k] = real(s)*real(s) + imag(s)*imag(s)
	}
	return out
}

func TestSpectrumMatchesDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 8, 16, 64, 256, 400, 512, 1024, 1000} {
		x32 := make([]float32, n)
		x64 := make([]float64, n)
		for i := range x32 {
			x32[i] = float32(rng.NormFloat64())
			x64[i] = float64(x32[i])
		}
		sp := newSpectrum(n)
		got := make([]float32, n/2+1)
		sp.power(x32, got, sp.newWork())
		want := naiveFFTPower(x64)
		var peak, worst float64
		for k := range want {
			peak = max(peak, want[k])
			worst = max(worst, math.Abs(float64(got[k])-want[k]))
		}
		if worst > 1e-5*peak {
			t.Errorf("n=%d (%T): largest error %g, %g of the peak", n, sp, worst, worst/peak)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	d := DefaultConfig()
	if d.SampleRate != 16000 || d.WinLength != 400 || d.HopLength != 160 || d.NFFT != 512 || d.NumMels != 80 ||
		d.FMin != 0 || d.FMax != 8000 || d.MelScale != "slaney" || d.MelNorm != "slaney" || d.Window != "hann" ||
		*d.Preemphasis != 0.97 || d.LogGuard != math.Ldexp(1, -24) || *d.Dither != 1e-5 {
		t.Errorf("DefaultConfig() = %+v", d)
	}
	if got := (Config{}).FrameRate(); got != 100 {
		t.Errorf("FrameRate() = %g, want 100", got)
	}
	neg := -0.5
	bad := Config{SampleRate: 50, WinLength: 1000, NFFT: 512, HopLength: -1, NumMels: 5000, FMin: -1, FMax: 9000,
		MelScale: "bark", MelNorm: "l2", Window: "kaiser", Preemphasis: &neg, LogGuard: -1, Dither: &neg}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"sample_rate", "win_length", "hop_length", "n_mels", "f_min", "f_max", "mel_scale", "mel_norm", "window", "preemphasis", "log_guard", "dither"} {
		if !strings.Contains(err.Error(), "features."+key+":") {
			t.Errorf("error does not report %s:\n%v", key, err)
		}
	}
	if err := (Config{NumMels: 200, NFFT: 256, WinLength: 256}).Validate(); err == nil || !strings.Contains(err.Error(), "have no FFT bin") {
		t.Errorf("too many bands: got %v", err)
	}
	if _, err := NewExtractor(bad); err == nil {
		t.Error("NewExtractor accepted a bad config")
	}
	zero := 0.0
	if c := (Config{Preemphasis: &zero}).WithDefaults(); *c.Preemphasis != 0 {
		t.Errorf("explicit preemphasis 0 became %g", *c.Preemphasis)
	}
}

func newTestExtractor(t testing.TB, cfg Config) *Extractor {
	t.Helper()
	e, err := NewExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNumFrames(t *testing.T) {
	e := newTestExtractor(t, Config{})
	for _, tt := range []struct{ n, want int }{{0, 0}, {1, 1}, {159, 1}, {160, 2}, {16000, 101}, {16159, 101}} {
		if got := e.NumFrames(tt.n); got != tt.want {
			t.Errorf("NumFrames(%d) = %d, want %d", tt.n, got, tt.want)
		}
		m, err := e.Compute(make([]float32, tt.n))
		if err != nil {
			t.Fatal(err)
		}
		if m.Frames != tt.want || m.Bands != 80 || len(m.Data) != tt.want*80 {
			t.Errorf("Compute(%d samples): %d×%d with %d values", tt.n, m.Frames, m.Bands, len(m.Data))
		}
	}
}

// referenceLogMel computes frame t in float64 from the definitions in the
// package documentation: pre-emphasis, centred frame with zero padding,
// symmetric Hann window centred in n_fft, DFT power, filterbank, log.
func referenceLogMel(x []float32, cfg Config, t int) []float64 {
	cfg = cfg.WithDefaults()
	a := *cfg.Preemphasis
	pre := func(i int) float64 {
		switch {
		case i < 0 || i >= len(x):
			return 0
		case i == 0:
			return float64(x[0])
		}
		return float64(x[i]) - a*float64(x[i-1])
	}
	frame := make([]float64, cfg.NFFT)
	off := (cfg.NFFT - cfg.WinLength) / 2
	for j := range cfg.WinLength {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(j)/float64(cfg.WinLength-1))
		frame[off+j] = w * pre(t*cfg.HopLength-cfg.NFFT/2+off+j)
	}
	p := naiveFFTPower(frame)
	fb, _ := MelFilters(cfg)
	out := make([]float64, len(fb))
	for b, row := range fb {
		var s float64
		for k, w := range row {
			s += float64(w) * p[k]
		}
		out[b] = math.Log(s + cfg.LogGuard)
	}
	return out
}

func TestComputeMatchesReference(t *testing.T) {
	a, err := DecodeFile(testutil.Path(t, "audio", "speech16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	e := newTestExtractor(t, Config{})
	m, err := e.Compute(a.Samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range []int{0, 1, 2, 17, m.Frames / 2, m.Frames - 3, m.Frames - 2, m.Frames - 1} {
		want := referenceLogMel(a.Samples, Config{}, fr)
		var worst float64
		for b, v := range m.Frame(fr) {
			// float32 arithmetic: compare energies relative to the frame.
			worst = max(worst, math.Abs(float64(v)-want[b]))
		}
		if worst > 2e-3 {
			t.Errorf("frame %d: largest log difference from the float64 reference %g", fr, worst)
		}
	}
}

func TestPureTonePeaksInItsBand(t *testing.T) {
	e := newTestExtractor(t, Config{})
	fb := melFilterbank(e.cfg)
	for _, f := range []float64{150, 440, 1000, 2500, 4000, 6000, 7600} {
		x := make([]float32, 16000)
		for i := range x {
			x[i] = float32(0.5 * math.Sin(2*math.Pi*f*float64(i)/16000))
		}
		m, err := e.Compute(x)
		if err != nil {
			t.Fatal(err)
		}
		row := m.Frame(m.Frames / 2)
		best := 0
		for b, v := range row {
			if v > row[best] {
				best = b
			}
		}
		// The peak band's triangle contains f, and its centre is the
		// nearest or second-nearest to f.
		lo := MelToHz(HzToMel(0, false)+float64(best)*HzToMel(8000, false)/81, false)
		hi := MelToHz(HzToMel(0, false)+float64(best+2)*HzToMel(8000, false)/81, false)
		if f < lo || f > hi {
			t.Errorf("%g Hz tone peaks in band %d (%.0f-%.0f Hz, centre %.0f Hz)", f, best, lo, hi, fb.centre[best])
		}
		if row[best]-row[(best+20)%80] < 5 {
			t.Errorf("%g Hz tone: the peak is not clear: %v", f, row)
		}
	}
}

func TestSilenceGivesTheFloor(t *testing.T) {
	e := newTestExtractor(t, Config{})
	m, err := e.Compute(make([]float32, 8000))
	if err != nil {
		t.Fatal(err)
	}
	floor := float32(math.Log(math.Ldexp(1, -24)))
	for i, v := range m.Data {
		if v != floor {
			t.Fatalf("value %d = %g, want the floor log(2^-24) = %g", i, v, floor)
		}
	}
	// Dither lifts the floor, deterministically.
	d1, _ := e.ComputeDithered(make([]float32, 8000), 7)
	d2, _ := e.ComputeDithered(make([]float32, 8000), 7)
	d3, _ := e.ComputeDithered(make([]float32, 8000), 8)
	same, differ := true, false
	above := 0
	for i := range d1.Data {
		if d1.Data[i] < floor {
			t.Fatalf("dithered silence value %d = %g, below the floor", i, d1.Data[i])
		}
		if d1.Data[i] > floor {
			above++
		}
		same = same && d1.Data[i] == d2.Data[i]
		differ = differ || d1.Data[i] != d3.Data[i]
	}
	if above < len(d1.Data)/2 {
		t.Errorf("dither changes only %d of %d values", above, len(d1.Data))
	}
	if !same || !differ {
		t.Errorf("dither: same seed same result = %v, other seed differs = %v", same, differ)
	}
	zero := 0.0
	off := newTestExtractor(t, Config{Dither: &zero})
	if m, _ := off.ComputeDithered(make([]float32, 800), 1); m.Data[0] != floor {
		t.Errorf("dither 0 still dithers")
	}
}

func TestScalingShiftsLogEnergies(t *testing.T) {
	// A tiny log guard keeps the floor out of the way; white noise puts
	// energy in every band.
	e := newTestExtractor(t, Config{LogGuard: 1e-30})
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 8000)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	base, _ := e.Compute(x)
	for _, k := range []float32{0.01, 0.5, 3} {
		y := make([]float32, len(x))
		for i := range x {
			y[i] = k * x[i]
		}
		m, _ := e.Compute(y)
		shift := 2 * math.Log(float64(k))
		var worst float64
		for i := range m.Data {
			worst = max(worst, math.Abs(float64(m.Data[i]-base.Data[i])-shift))
		}
		if worst > 1e-4 {
			t.Errorf("k=%g: log energies shift by 2·ln k = %.4f within %g, want 1e-4", k, shift, worst)
		}
	}
}

func TestComputeRejectsNonFinite(t *testing.T) {
	e := newTestExtractor(t, Config{})
	x := make([]float32, 1000)
	x[500] = float32(math.NaN())
	if _, err := e.Compute(x); err == nil || !strings.Contains(err.Error(), "sample 500") {
		t.Errorf("NaN: got %v", err)
	}
	x[500] = float32(math.Inf(1))
	if _, err := e.ComputeDithered(x, 1); err == nil {
		t.Errorf("Inf: no error")
	}
}

// The parallel path must give exactly what one goroutine gives, and the
// extractor must be safe for concurrent use (run with -race).
func TestComputeParallelAndConcurrent(t *testing.T) {
	e := newTestExtractor(t, Config{})
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 16000*30) // 3001 frames: parallel
	for i := range x {
		x[i] = float32(0.3 * rng.NormFloat64())
	}
	want := &LogMel{Data: make([]float32, e.NumFrames(len(x))*80), Frames: e.NumFrames(len(x)), Bands: 80}
	e.frames(x, want, 0, want.Frames)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			m, err := e.Compute(x)
			if err != nil {
				errs <- err
				return
			}
			for i := range m.Data {
				if m.Data[i] != want.Data[i] {
					errs <- errors.New("parallel result differs from sequential")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFrameAllocatesNothing(t *testing.T) {
	for _, cfg := range []Config{{}, {NFFT: 400}} {
		e := newTestExtractor(t, cfg)
		x := make([]float32, 16000)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)))
		}
		s := e.scratch.Get().(*frameScratch)
		out := make([]float32, 80)
		allocs := testing.AllocsPerRun(100, func() {
			for fr := range 101 {
				e.frameInto(x, e.windowStart(fr), s, out)
			}
		})
		if allocs != 0 {
			t.Errorf("n_fft %d: %v allocations per 101 frames, want 0", e.cfg.NFFT, allocs)
		}
	}
}
