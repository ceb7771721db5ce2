package features

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLogEnergies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := []float32{0, 1, 2, math.Sqrt2, math.Nextafter32(2, 0), math.Nextafter32(1, 2), 0.5, math.E, 1e-30, 1e30,
		math.MaxFloat32, 1 + 1.0/128, math.Nextafter32(1+1.0/128, 0), -1, float32(math.Inf(1)), float32(math.NaN())}
	for range 200000 {
		xs = append(xs, float32(math.Exp(rng.Float64()*100-70)))
	}
	for _, guard := range []float64{math.Ldexp(1, -24), 1e-300, 0} {
		got := append([]float32(nil), xs...)
		logEnergies(got, guard)
		for i, x := range xs {
			want := float32(math.Log(float64(x) + guard))
			if got[i] != want && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want))) {
				// A result within 1e-13 can still round to the
				// neighbouring float32; allow that, nothing more.
				if math.Abs(float64(got[i]-want)) > math.Abs(float64(math.Nextafter32(want, 0)-want)) {
					t.Fatalf("ln(%g + %g) = %.9g, math.Log gives %.9g", x, guard, got[i], want)
				}
			}
		}
	}
}

// BenchmarkLog compares math.Log with logEnergies on one frame of 80 values.
func BenchmarkLog(b *testing.B) {
	xs := make([]float32, 80)
	for i := range xs {
		xs[i] = float32(math.Exp(float64(i)/4 - 17))
	}
	v := make([]float32, len(xs))
	b.Run("math.Log", func(b *testing.B) {
		for b.Loop() {
			for i, x := range xs {
				v[i] = float32(math.Log(float64(x) + 0x1p-24))
			}
		}
	})
	b.Run("logEnergies", func(b *testing.B) {
		for b.Loop() {
			copy(v, xs)
			logEnergies(v, 0x1p-24)
		}
	})
}
