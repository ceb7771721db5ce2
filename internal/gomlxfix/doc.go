// Package gomlxfix makes GoMLX v0.26.0 able to train asrkit's models on its
// pure-Go backend ("go": asrkit's copy of package backends/simplego,
// internal/simplego), and makes their gradients cheaper on every backend.
//
// # What it fixes
//
// The pure-Go backend as shipped cannot back-propagate through Slice (its
// gradient is built with Pad), ConvGeneral (the input gradient uses Reverse)
// or DynamicSlice (its gradient uses DynamicUpdateSlice), because it
// implements none of those ops. Its ConvGeneral also rejects nil strides and
// indexes out of range when the input is dilated and the kernel dilations are
// nil, which is exactly the transposed convolution that GoMLX builds for the
// gradient of a strided convolution; and its Scatter ops mishandle update
// windows narrower than the operand. [NewGoBackend] and [Wrap] return a
// backend that adds the missing ops, built only from ops that the pure-Go
// backend has and that XLA also has, so a model never depends on anything
// CPU-only:
//
//   - Pad (edge, negative and interior padding) from Reshape, Concatenate,
//     Broadcast and Slice;
//   - Reverse from a Gather with reversed indices;
//   - DynamicSlice from a Gather (which clamps start indices exactly as
//     DynamicSlice does) and DynamicUpdateSlice from a ScatterSum and a Where;
//   - ConvGeneral with nil strides and dilations filled with 1;
//   - ScatterSum with update windows narrower than the operand (the gradient
//     of GatherSlices), which the pure-Go backend silently writes to the
//     wrong elements: rewritten as a scatter of single elements. ScatterMax
//     and ScatterMin with such windows return an error instead.
//
// # Gradients
//
// Importing the package also changes [graph.VJPRegistration], process-wide
// and once, at initialisation (before any graph can be built concurrently):
//
//   - Dot and DotGeneral: GoMLX's gradients broadcast-multiply and then
//     reduce, materialising [batch, lhs, rhs, contracted] tensors; here each
//     gradient is one DotGeneral and a transpose, the way JAX writes them. The
//     values are the same; a training step of asrkit's prototype was 7-8x
//     faster on the pure-Go backend.
//   - gradients GoMLX does not define at all: Pad, Reverse, Rsqrt, Expm1,
//     Clamp, Identity, and a zero gradient for the piecewise-constant ops
//     (comparisons, Sign, Floor, Ceil, Round, IsFinite, IsNaN, ArgMinMax, ...),
//     which otherwise abort gradient construction when a mask such as
//     ConvertDType(GreaterThan(x, 0), Float32) multiplies a trained value.
//     Existing GoMLX gradients are never replaced except for Dot and
//     DotGeneral.
//
// # What it does not fix
//
// Still missing on the pure-Go backend: SelectAndScatter (so MaxPool has no
// gradient), the BatchNorm ops (use LayerNorm, or batch normalisation built
// from primitives), FFT, the bit-shift and total-order comparison ops, and a
// gradient for ReduceProduct and Rem. Its ConvGeneral is about 20x slower per
// FLOP than GoMLX's own DotGeneral kernel, and far slower than the one of
// asrkit's copy (internal/simplego on internal/gemm): write time
// subsampling as frame stacking plus a dense layer, and depthwise
// convolutions as a sum of shifted slices times
// per-channel weights (forward and backward of a [8, 100, 144] depthwise
// convolution with 15 taps: 34 ms that way, 186 ms as a grouped ConvGeneral,
// whose gradient GoMLX builds from one convolution per channel; both are
// correct with this package, see TestDepthwiseConvolutionGradient).
//
// The default parallel executor of the pure-Go backend can deadlock (nested
// waits on a bounded worker pool); package internal/backend creates it in a
// configuration that cannot.
package gomlxfix
