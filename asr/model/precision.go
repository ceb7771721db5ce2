package model

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX model code reads best with the graph ops unqualified.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Precision is the arithmetic a model graph computes in (train.precision in
// a training config). The weights are float32 whatever the precision: they
// are stored, updated by the optimizer and saved in float32, and only
// rounded to the compute precision where a matrix product reads them.
type Precision string

// Precisions.
const (
	// PrecisionFloat32 computes everything in float32. It is the default
	// (the empty Precision means it), and what inference uses.
	PrecisionFloat32 Precision = "float32"
	// PrecisionBFloat16 computes the matrix products, and the activations
	// between them inside each residual branch, in bfloat16: the
	// subsampling stages, the feed-forward modules, the query/key/value,
	// attention and output projections, and the convolution module's GLU
	// and pointwise layers. Everything whose accuracy matters more than its
	// speed stays in float32: the residual stream, every LayerNorm
	// (statistics, gain and offset), rotary position embeddings, the
	// attention softmax, the depthwise convolution, the output layer, the
	// log-softmax and the CTC loss, and every sum over frames or batch
	// (bias and kernel gradients are reduced in float32). bfloat16 has
	// float32's exponent range, so no loss scaling is needed. It pays off
	// on GPUs with bfloat16 matrix units (XLA); the pure-Go backend
	// computes it, but more slowly than float32.
	PrecisionBFloat16 Precision = "bfloat16"
)

// Validate reports whether p is a known precision (empty means float32).
func (p Precision) Validate() error {
	switch p {
	case "", PrecisionFloat32, PrecisionBFloat16:
		return nil
	}
	return fmt.Errorf("model: unknown precision %q (want %s or %s)", string(p), PrecisionFloat32, PrecisionBFloat16)
}

// DType returns the dtype of p's matrix products: dtypes.Float32 or
// dtypes.BFloat16. It returns dtypes.InvalidDType for an unknown precision.
func (p Precision) DType() dtypes.DType {
	switch p {
	case "", PrecisionFloat32:
		return dtypes.Float32
	case PrecisionBFloat16:
		return dtypes.BFloat16
	}
	return dtypes.InvalidDType
}

// Options say how [LogProbsWith] builds the graph, beyond the model's
// shape (which [Config] holds).
type Options struct {
	// Training turns dropout on.
	Training bool
	// Precision is the compute precision; empty means float32. The
	// variables are float32 in every precision, so one context (and one
	// checkpoint) serves graphs of both.
	Precision Precision
}

// LogProbsWith is [LogProbs] with options: it builds the acoustic model on
// ctx and returns the per-frame log-probabilities [B, T', V] (always
// float32) and the output lengths [B] int32. feats must be float32.
//
// Like LogProbs it panics on invalid input, including an unknown
// precision; context.Exec turns the panic into an error.
func LogProbsWith(ctx *context.Context, cfg Config, feats, lengths *Node, opts Options) (logProbs, outLengths *Node) {
	if err := opts.Precision.Validate(); err != nil {
		panic(err)
	}
	m := newBuilder(ctx, cfg, opts.Training, nil)
	m.compute = opts.Precision.DType()
	return m.logProbs(feats, lengths)
}
