package decode

import (
	"math"
	"math/rand/v2"

	"github.com/asrkit/asrkit/asr/text"
)

// synthPosteriors imitates a trained CTC model's output for a transcript:
// about 60% of frames are blank with probability 0.9-0.9999, each character
// is emitted on one frame with probability 0.6-0.99, one frame in eight is
// confusable (a second character takes most of the rest), and the remaining
// mass is spread unevenly over every class. Characters are placed at even
// spacing with at least one frame between them, like 12.5 characters per
// second at 25 frames per second.
func synthPosteriors(rng *rand.Rand, v *text.Vocabulary, transcript string) LogProbs {
	ids, err := v.Encode(transcript)
	if err != nil {
		panic(err)
	}
	V := v.Size()
	T := 2*len(ids) + 1
	target := make([]int, T)
	for i, id := range ids {
		target[2*i+1] = id
	}
	data := make([]float32, T*V)
	w := make([]float64, V)
	for t := 0; t < T; t++ {
		top := target[t]
		ptop := 0.9 + 0.0999*rng.Float64()
		if top != 0 {
			ptop = 0.6 + 0.39*rng.Float64()
		}
		rest := 1 - ptop
		second, psecond := -1, 0.0
		if rng.IntN(8) == 0 {
			second = 1 + rng.IntN(V-1)
			if second == top {
				second = 0
			}
			psecond = rest * (0.5 + 0.45*rng.Float64())
			rest -= psecond
		}
		var z float64
		for c := range w {
			w[c] = math.Exp(2 * rng.NormFloat64())
			if c == top || c == second {
				w[c] = 0
			}
			z += w[c]
		}
		for c := range w {
			p := rest * w[c] / z
			switch c {
			case top:
				p = ptop
			case second:
				p = psecond
			}
			data[t*V+c] = float32(math.Log(max(p, 1e-30)))
		}
	}
	return LogProbs{Data: data, Frames: T, Vocab: V}
}
