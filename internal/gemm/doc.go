// Package gemm multiplies batches of float32 (and bfloat16) matrices fast
// on the CPU: the kernel behind DotGeneral in asrkit's copy of GoMLX's
// pure-Go backend (internal/simplego).
//
// It is the classic BLIS design: the operands are copied ("packed") into
// contiguous micro-panels that fit the caches, and a micro-kernel computes
// 6x16 tiles of the output held in registers. On amd64 CPUs with AVX2 and
// FMA the micro-kernel is assembly (kernel_amd64.s: 12 fused multiply-adds
// per step on 8-float registers); elsewhere, or when built with the purego
// tag, it is portable Go ([Kernel] says which runs). Operands are
// read through strides, so transposed layouts need no copy beyond the
// packing, and bfloat16 inputs are converted to float32 while packing.
// Products are split over goroutines by batch element, then by rows or
// columns.
package gemm
