package gemm

// kernel computes the mr x nr tile c = a x b over depth k, where a is a
// packed micro-panel of A (mr values per k) and b one of B (nr values per
// k); c holds the tile's rows ldc elements apart. With accumulate the tile
// is added to c, otherwise it replaces it. The assembly kernel is chosen at
// start-up where the CPU has it (see kernel_amd64.go).
var kernel = kernelGo

// kernelName names the kernel in use (see [Kernel]).
var kernelName = "go"

// Kernel names the micro-kernel this process uses: "avx2" (amd64 assembly
// with AVX2 and FMA) or "go" (portable Go).
func Kernel() string { return kernelName }

// kernelGo is the portable micro-kernel.
func kernelGo(k int, a, b, c []float32, ldc int, accumulate bool) {
	var acc [mr][nr]float32
	a = a[:k*mr]
	b = b[:k*nr]
	for p := range k {
		bp := (*[nr]float32)(b[p*nr : p*nr+nr])
		ap := (*[mr]float32)(a[p*mr : p*mr+mr])
		for r := range mr {
			ar := ap[r]
			row := &acc[r]
			for j := range nr {
				row[j] += ar * bp[j]
			}
		}
	}
	_ = c[(mr-1)*ldc+nr-1]
	for r := range mr {
		out := c[r*ldc : r*ldc+nr]
		if accumulate {
			for j := range nr {
				out[j] += acc[r][j]
			}
		} else {
			copy(out, acc[r][:])
		}
	}
}
