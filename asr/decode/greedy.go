package decode

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/asrkit/asrkit/asr/text"
)

// Greedy is best-path decoding: the most probable class of each frame,
// repeats merged, blanks removed. The zero value decodes the default
// vocabulary at [DefaultFrameDuration].
type Greedy struct {
	Vocab         *text.Vocabulary // nil means text.DefaultVocabulary()
	FrameDuration time.Duration    // duration of one frame; 0 means DefaultFrameDuration
}

// Decode decodes one utterance. Words are timed and scored from the best
// path itself; Result.LogProb is that path's log-probability.
func (g Greedy) Decode(ctx context.Context, lp LogProbs) (Result, error) {
	if g.FrameDuration < 0 {
		return Result{}, fmt.Errorf("decode: negative FrameDuration %v", g.FrameDuration)
	}
	v, fd := vocabOr(g.Vocab), frameOr(g.FrameDuration)
	if err := lp.validate(v); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	spans, total := bestPath(lp)
	ws, txt := words(spans, v, fd)
	return Result{Text: txt, Words: ws, LogProb: total, Score: total}, nil
}

// bestPath returns the spans of the most probable class of each frame
// (repeats merged, blanks dropped) and the path's log-probability.
func bestPath(lp LogProbs) ([]span, float64) {
	var spans []span
	var total float64
	prev := 0
	for t := 0; t < lp.Frames; t++ {
		row := lp.Row(t)
		best := 0
		for c := 1; c < len(row); c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		total += float64(row[best])
		if best != 0 {
			p := math.Exp(float64(row[best]))
			if best == prev {
				sp := &spans[len(spans)-1]
				sp.last = t
				sp.peak = max(sp.peak, p)
			} else {
				spans = append(spans, span{id: best, first: t, last: t, peak: p})
			}
		}
		prev = best
	}
	return spans, total
}

func vocabOr(v *text.Vocabulary) *text.Vocabulary {
	if v == nil {
		return text.DefaultVocabulary()
	}
	return v
}

func frameOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultFrameDuration
	}
	return d
}
