package gomlxfix

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// encoderLikeStep is the gradient of a small transformer-shaped block on
// [8, 100, 144]: a dense projection to 4 heads, attention scores and
// context (batched DotGenerals), and a 576-wide feed-forward layer, all
// through DotGeneral, with the loss summed.
func encoderLikeStep(x, wqkv, w1, w2 *Node) *Node {
	const b, t, d, h = 8, 100, 144, 4
	qkv := DotGeneral(x, []int{2}, nil, wqkv, []int{0}, nil) // [b, t, 3d]
	q := Reshape(Slice(qkv, AxisRange(), AxisRange(), AxisRange(0, d)), b, t, h, d/h)
	k := Reshape(Slice(qkv, AxisRange(), AxisRange(), AxisRange(d, 2*d)), b, t, h, d/h)
	v := Reshape(Slice(qkv, AxisRange(), AxisRange(), AxisRange(2*d, 3*d)), b, t, h, d/h)
	scores := DotGeneral(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}) // [b, h, t, t]
	attn := Softmax(MulScalar(scores, 0.1), -1)
	ctx := DotGeneral(attn, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [b, h, t, d/h]
	y := Add(x, Reshape(TransposeAllAxes(ctx, 0, 2, 1, 3), b, t, d))
	f := DotGeneral(Tanh(DotGeneral(y, []int{2}, nil, w1, []int{0}, nil)), []int{2}, nil, w2, []int{0}, nil)
	loss := ReduceAllSum(Square(Add(y, f)))
	g := Gradient(loss, wqkv, w1, w2)
	return Add(Add(ReduceAllSum(g[0]), ReduceAllSum(g[1])), ReduceAllSum(g[2]))
}

func benchStep(b *testing.B, be backends.Backend) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(dims ...int) *tensors.Tensor {
		v := make([]float32, shapes.Make(dtypes.Float32, dims...).Size())
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.05)
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	args := []any{mk(8, 100, 144), mk(144, 432), mk(144, 576), mk(576, 144)}
	e := MustNewExec(be, encoderLikeStep)
	defer e.Finalize()
	e.MustExec(args...)
	for b.Loop() {
		e.MustExec(args...)
	}
}

// BenchmarkDotGradients compares GoMLX's stock Dot/DotGeneral gradients with
// this package's on an encoder-shaped step (pure-Go backend):
//
//	go test -run '^$' -bench DotGradients -benchtime 5x ./internal/gomlxfix
func BenchmarkDotGradients(b *testing.B) {
	be := fixedGo(b)
	b.Run("fixed", func(b *testing.B) { benchStep(b, be) })
	b.Run("stock", func(b *testing.B) {
		ours := VJPRegistration[NodeTypeDotGeneral]
		VJPRegistration[NodeTypeDotGeneral] = stockVJP[NodeTypeDotGeneral]
		defer func() { VJPRegistration[NodeTypeDotGeneral] = ours }()
		benchStep(b, be)
	})
}
