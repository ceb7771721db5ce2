package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFloat32 times products of the sizes asrkit's models use and the
// 1024^3 reference size, with this package's kernel on one goroutine and on
// GOMAXPROCS, and reports GFLOP/s of wall time and of CPU time:
//
//	go test -run '^$' -bench Float32 ./internal/gemm
func BenchmarkFloat32(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range []struct{ batch, m, n, k int }{
		{1, 1024, 1024, 1024},
		{1, 800, 512, 128},  // dense layer of a training batch (8 clips x 100 frames)
		{1, 128, 512, 800},  // its weight gradient (contracted over frames)
		{32, 100, 100, 32},  // attention scores, 8 clips x 4 heads
		{1, 250, 1024, 256}, // small's feed-forward on one 10 s utterance
	} {
		for _, tr := range []bool{false, true} {
			as, aBatch := layout{transposed: tr}.strides(sh.m, sh.k)
			bs, bBatch := layout{}.strides(sh.k, sh.n)
			a := randomSlice(r, sh.batch*aBatch)
			bb := randomSlice(r, sh.batch*bBatch)
			c := make([]float32, sh.batch*sh.m*sh.n)
			for _, workers := range []int{1, 0} {
				name := fmt.Sprintf("%s/%dx%dx%dx%d/aT=%v/workers=%d", kernelName, sh.batch, sh.m, sh.n, sh.k, tr, workers)
				b.Run(name, func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						if err := Float32(c, sh.batch, sh.m, sh.n, sh.k, a, as, bb, bs, workers); err != nil {
							b.Fatal(err)
						}
					}
					flops := 2 * float64(sh.batch*sh.m*sh.n*sh.k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					// Per CPU second: varies less than wall time when other
					// processes share the cores.
					if cpu := cpuTime() - cpu0; cpu > 0 {
						b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
					}
				})
			}
		}
	}
}
