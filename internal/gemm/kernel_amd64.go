//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernel = kernelAVX2
		kernelName = "avx2"
	}
}

// kernelAVX2Asm is kernelGo for CPUs with AVX2 and FMA (kernel_amd64.s):
// c points at the tile's first element, ldc in elements.
//
//go:noescape
func kernelAVX2Asm(k int, a, b, c *float32, ldc int, accumulate bool)

// kernelAVX2 checks the slices' lengths (the assembly reads and writes
// through raw pointers) and calls kernelAVX2Asm.
func kernelAVX2(k int, a, b, c []float32, ldc int, accumulate bool) {
	if k <= 0 {
		kernelGo(k, a, b, c, ldc, accumulate)
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernelAVX2Asm(k, &a[0], &b[0], &c[0], ldc, accumulate)
}
