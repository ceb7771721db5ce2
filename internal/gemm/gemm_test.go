package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
)

// layout places a batch of rows x cols matrices in a flat slice, row-major
// or transposed (column-major), with an optional gap between batch elements
// and between rows, so that strides other than the dense ones are tested.
type layout struct {
	transposed bool
	pad        int // extra elements after each row (or column) and batch element
}

func (l layout) strides(rows, cols int) (Strides, int) {
	lead, inner := cols, rows // row-major: rows of cols elements
	if l.transposed {
		lead, inner = rows, cols
	}
	ld := lead + l.pad
	batch := inner*ld + l.pad
	if l.transposed {
		return Strides{Batch: batch, Row: 1, Col: ld}, batch
	}
	return Strides{Batch: batch, Row: ld, Col: 1}, batch
}

// reference is the naive product in float64.
func reference(batch, m, n, k int, a []float32, as Strides, b []float32, bs Strides) []float64 {
	out := make([]float64, batch*m*n)
	for bi := range batch {
		for i := range m {
			for j := range n {
				var s float64
				for p := range k {
					s += float64(a[bi*as.Batch+i*as.Row+p*as.Col]) * float64(b[bi*bs.Batch+p*bs.Row+j*bs.Col])
				}
				out[(bi*m+i)*n+j] = s
			}
		}
	}
	return out
}

func randomSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// kernels returns the micro-kernels available on this machine, by name.
func kernels() map[string]func(int, []float32, []float32, []float32, int, bool) {
	out := map[string]func(int, []float32, []float32, []float32, int, bool){"go": kernelGo}
	out[kernelName] = kernel
	return out
}

// withKernel runs f with the micro-kernel k.
func withKernel(t *testing.T, k func(int, []float32, []float32, []float32, int, bool), f func()) {
	t.Helper()
	saved := kernel
	kernel = k
	defer func() { kernel = saved }()
	f()
}

func TestFloat32AgainstReference(t *testing.T) {
	shapes := []struct{ batch, m, n, k int }{
		{1, 1, 1, 1},
		{1, 6, 16, 1},        // exactly one tile
		{1, 7, 17, 3},        // one more than a tile each way
		{3, 5, 15, 9},        // smaller than a tile, batched
		{2, 13, 33, 257},     // depth one more than a panel
		{1, 97, 1025, 5},     // rows one more than mc, columns one more than nc
		{1, 200, 40, 600},    // several depth panels, accumulation
		{4, 31, 100, 36},     // attention-like
		{1, 1, 300, 64},      // a single row (vector x matrix)
		{1, 300, 1, 64},      // a single column (matrix x vector)
		{5, 2, 3, 0},         // no depth: zeros
		{0, 4, 4, 4},         // empty batch
		{2, 0, 4, 4},         // no rows
		{2, 4, 0, 4},         // no columns
		{1, 128, 512, 128},   // a model's dense layer
		{2, 100, 100, 32},    // batched, parallel over the batch
		{1, 1000, 40, 2},     // tall, thin depth
		{1, 12, 2000, 9},     // wide: split over columns
		{3, 18, 48, 1},       // depth 1
		{1, 6 * 17, 16, 700}, // exact tiles, three depth panels
	}
	layouts := []layout{{}, {transposed: true}, {pad: 3}, {transposed: true, pad: 1}}
	r := rand.New(rand.NewPCG(1, 2))
	for kname, kern := range kernels() {
		if raceEnabled && kname == "go" && kernelName != "go" {
			continue // the race detector looks for data races, not arithmetic
		}
		for _, sh := range shapes {
			if raceEnabled && sh.batch*sh.m*sh.n*sh.k > 1<<21 {
				continue
			}
			for ia, la := range layouts {
				for ib, lb := range layouts {
					if raceEnabled && (ia+ib)%3 != 0 {
						continue // 6 of the 16 combinations, each layout at least once per side
					}
					for _, workers := range []int{1, 3} {
						name := fmt.Sprintf("%s/%dx%dx%dx%d/a%v/b%v/w%d", kname, sh.batch, sh.m, sh.n, sh.k, la, lb, workers)
						as, aBatch := la.strides(sh.m, sh.k)
						bs, bBatch := lb.strides(sh.k, sh.n)
						a := randomSlice(r, sh.batch*aBatch)
						b := randomSlice(r, sh.batch*bBatch)
						want := reference(sh.batch, sh.m, sh.n, sh.k, a, as, b, bs)
						got := make([]float32, sh.batch*sh.m*sh.n)
						for i := range got {
							got[i] = float32(math.NaN()) // must all be overwritten
						}
						withKernel(t, kern, func() {
							if err := Float32(got, sh.batch, sh.m, sh.n, sh.k, a, as, b, bs, workers); err != nil {
								t.Fatalf("%s: %v", name, err)
							}
						})
						compare(t, name, got, want, sh.k)
					}
				}
			}
		}
	}
}

// compare checks got against the float64 reference, with a tolerance that
// grows with the depth of the sums (float32 rounding of k products).
func compare(t *testing.T, name string, got []float32, want []float64, k int) {
	t.Helper()
	tol := 1e-6 * float64(k+1) * 4
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s: element %d = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func TestBFloat16AgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for kname, kern := range kernels() {
		for _, sh := range []struct{ batch, m, n, k int }{{1, 7, 17, 3}, {2, 50, 40, 300}, {1, 1, 5, 0}} {
			for _, tr := range []bool{false, true} {
				as, aBatch := layout{transposed: tr}.strides(sh.m, sh.k)
				bs, bBatch := layout{transposed: !tr, pad: 2}.strides(sh.k, sh.n)
				a16 := make([]bfloat16.BFloat16, sh.batch*aBatch)
				b16 := make([]bfloat16.BFloat16, sh.batch*bBatch)
				a := make([]float32, len(a16))
				b := make([]float32, len(b16))
				for i := range a16 {
					a16[i] = bfloat16.FromFloat32(float32(r.NormFloat64()))
					a[i] = a16[i].Float32()
				}
				for i := range b16 {
					b16[i] = bfloat16.FromFloat32(float32(r.NormFloat64()))
					b[i] = b16[i].Float32()
				}
				want := reference(sh.batch, sh.m, sh.n, sh.k, a, as, b, bs)
				got := make([]float32, sh.batch*sh.m*sh.n)
				withKernel(t, kern, func() {
					if err := BFloat16(got, sh.batch, sh.m, sh.n, sh.k, a16, as, b16, bs, 2); err != nil {
						t.Fatal(err)
					}
				})
				compare(t, fmt.Sprintf("%s/%v/%v", kname, sh, tr), got, want, sh.k)
			}
		}
	}
}

// TestNonFinite checks that NaN and infinities propagate as in the naive sum
// (a kernel that skips zero multipliers would turn 0 x Inf into 0).
func TestNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for kname, kern := range kernels() {
		a := []float32{0, 1, 2, 3} // 2x2
		b := []float32{inf, 1, 1, 1}
		got := make([]float32, 4)
		withKernel(t, kern, func() {
			if err := Float32(got, 1, 2, 2, 2, a, Strides{4, 2, 1}, b, Strides{4, 2, 1}, 1); err != nil {
				t.Fatal(err)
			}
		})
		// Row 0: 0*Inf + 1*1 = NaN; 0*1 + 1*1 = 1. Row 1: 2*Inf + 3 = Inf; 5.
		if !math.IsNaN(float64(got[0])) || got[1] != 1 || got[2] != inf || got[3] != 5 {
			t.Errorf("%s: got %v, want [NaN 1 +Inf 5]", kname, got)
		}
		b[0] = nan
		withKernel(t, kern, func() {
			if err := Float32(got, 1, 2, 2, 2, a, Strides{4, 2, 1}, b, Strides{4, 2, 1}, 1); err != nil {
				t.Fatal(err)
			}
		})
		if !math.IsNaN(float64(got[0])) || !math.IsNaN(float64(got[2])) {
			t.Errorf("%s: NaN input: got %v", kname, got)
		}
	}
}

func TestBadArguments(t *testing.T) {
	dense := func(rows, cols int) Strides { return Strides{rows * cols, cols, 1} }
	a := make([]float32, 6)
	b := make([]float32, 6)
	for _, tc := range []struct {
		name           string
		dst            int
		batch, m, n, k int
		as, bs         Strides
		lenA, lenB     int
	}{
		{"negative size", 4, 1, -2, 2, 3, dense(2, 3), dense(3, 2), 6, 6},
		{"negative stride", 4, 1, 2, 2, 3, Strides{6, -3, 1}, dense(3, 2), 6, 6},
		{"output too small", 3, 1, 2, 2, 3, dense(2, 3), dense(3, 2), 6, 6},
		{"output too large", 5, 1, 2, 2, 3, dense(2, 3), dense(3, 2), 6, 6},
		{"a too short", 4, 1, 2, 2, 3, dense(2, 3), dense(3, 2), 5, 6},
		{"b too short", 4, 1, 2, 2, 3, dense(2, 3), dense(3, 2), 6, 5},
		{"stride beyond a", 4, 1, 2, 2, 3, Strides{6, 4, 1}, dense(3, 2), 6, 6},
		{"batch beyond b", 8, 2, 2, 2, 3, Strides{0, 3, 1}, dense(3, 2), 6, 6},
	} {
		if err := Float32(make([]float32, tc.dst), tc.batch, tc.m, tc.n, tc.k, a[:tc.lenA], tc.as, b[:tc.lenB], tc.bs, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := Float32(make([]float32, 4), 1, 2, 2, 3, a, dense(2, 3), b, dense(3, 2), 1); err != nil {
		t.Errorf("valid call: %v", err)
	}
}
