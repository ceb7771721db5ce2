package features

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestStreamEqualsCompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, cfg := range []Config{{}, {NFFT: 400, WinLength: 400, HopLength: 160}, {WinLength: 320, HopLength: 100}} {
		e := newTestExtractor(t, cfg)
		for _, n := range []int{0, 1, 100, 399, 4000, 33333} {
			x := noise(n, uint64(n))
			want, _ := e.Compute(x)
			st := e.NewStream()
			var got []float32
			for i := 0; i < n; {
				k := min(rng.IntN(700), n-i)
				m, err := st.Accept(x[i : i+k])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, m.Data...)
				i += k
				// A frame is returned as soon as its window is complete.
				if lookahead := e.windowStart(st.Frames()) + e.cfg.WinLength; st.Frames() < e.NumFrames(i) && lookahead <= i {
					t.Fatalf("after %d samples, frame %d (window to %d) was not returned", i, st.Frames(), lookahead)
				}
			}
			m, err := st.Flush()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Data...)
			if len(got) != len(want.Data) {
				t.Fatalf("%+v, %d samples: streamed %d values, Compute %d", cfg, n, len(got), len(want.Data))
			}
			for i := range got {
				if got[i] != want.Data[i] {
					t.Fatalf("%+v, %d samples: value %d (frame %d) streamed %g, Compute %g", cfg, n, i, i/80, got[i], want.Data[i])
				}
			}
			if _, err := st.Accept(x); !errors.Is(err, ErrStreamFinished) {
				t.Errorf("Accept after Flush: %v", err)
			}
		}
	}
	st := newTestExtractor(t, Config{}).NewStream()
	if _, err := st.Accept([]float32{0, float32(math.NaN())}); err == nil {
		t.Error("NaN accepted")
	}
}
