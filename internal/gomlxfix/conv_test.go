package gomlxfix

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
)

func TestDepthwiseConvolutionGradient(t *testing.T) {
	b := fixedGo(t)
	rng := rand.New(rand.NewPCG(31, 32))
	k := randArr(rng, 3, 1, 3) // [K, 1, C]: one filter per channel
	x := randArr(rng, 2, 7, 3)
	t.Run("wrt x", func(t *testing.T) {
		checkGradient(t, b, func(x *Node) *Node {
			return Convolve(x, Const(x.Graph(), k.tensor())).ChannelGroupCount(3).PadSame().Done()
		}, x, 1e-6)
	})
	t.Run("wrt kernel", func(t *testing.T) {
		checkGradient(t, b, func(k *Node) *Node {
			return Convolve(Const(k.Graph(), x.tensor()), k).ChannelGroupCount(3).PadSame().Done()
		}, k, 1e-6)
	})
}
