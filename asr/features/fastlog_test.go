package features

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLogPositive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := []float64{1, 2, math.Sqrt2, math.Nextafter(2, 0), math.Nextafter(1, 2), 0.5, math.E, 1e-300, 5e-324, 1e300,
		math.MaxFloat64, math.Ldexp(1, -24), 3e-8, 1 + 1.0/128, math.Nextafter(1+1.0/128, 0)}
	for range 200000 {
		xs = append(xs, math.Exp(rng.Float64()*100-70))
	}
	for _, x := range xs {
		got, want := logPositive(x), math.Log(x)
		if math.Abs(got-want) > 1e-13*max(1, math.Abs(want)) {
			t.Fatalf("logPositive(%g) = %.17g, math.Log gives %.17g", x, got, want)
		}
	}
	for _, x := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if got, want := logPositive(x), math.Log(x); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("logPositive(%g) = %g, want %g", x, got, want)
		}
	}
}

// BenchmarkLog compares math.Log with logPositive over log-mel-like values.
func BenchmarkLog(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = math.Exp(float64(i%97)/4 - 17)
	}
	out := make([]float64, len(xs))
	b.Run("math.Log", func(b *testing.B) {
		for b.Loop() {
			for i, x := range xs {
				out[i] = math.Log(x)
			}
		}
	})
	b.Run("logPositive", func(b *testing.B) {
		for b.Loop() {
			for i, x := range xs {
				out[i] = logPositive(x)
			}
		}
	})
}
