package decode

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/asrkit/asrkit/asr/text"
)

// span is where one emitted label sits in an alignment.
type span struct {
	id          int     // vocabulary id
	first, last int     // frames, inclusive
	peak        float64 // highest posterior of id over first..last
}

// words groups spans into words at the vocabulary's space (and at any
// symbol that is white space) and returns them with the joined text.
func words(spans []span, v *text.Vocabulary, fd time.Duration) ([]Word, string) {
	var out []Word
	var b strings.Builder
	start := -1 // index of the word's first span
	var conf float64
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := Word{
			Text:       b.String(),
			Start:      time.Duration(spans[start].first) * fd,
			End:        time.Duration(spans[end].last+1) * fd,
			Confidence: conf / float64(end-start+1),
		}
		out = append(out, w)
		b.Reset()
		start, conf = -1, 0
	}
	for i, s := range spans {
		sym := v.Symbol(s.id)
		if s.id == v.Space() || strings.TrimSpace(sym) == "" {
			flush(i - 1)
			continue
		}
		if start < 0 {
			start = i
		}
		b.WriteString(sym)
		conf += s.peak
	}
	flush(len(spans) - 1)
	texts := make([]string, len(out))
	for i, w := range out {
		texts[i] = w.Text
	}
	return out, strings.Join(texts, " ")
}

// align returns the most probable CTC alignment (Viterbi) of labels to lp
// as one span per label. It needs T·(2L+1)/4 bytes of back pointers.
func align(lp LogProbs, labels []int) ([]span, error) {
	T, L := lp.Frames, len(labels)
	if L == 0 {
		return nil, nil
	}
	S := 2*L + 1
	// Minimum frames: one per label plus one per repeated pair.
	need := L
	for i := 1; i < L; i++ {
		if labels[i] == labels[i-1] {
			need++
		}
	}
	if T < need {
		return nil, fmt.Errorf("%w: %d frames cannot hold %d labels", ErrInput, T, L)
	}
	// ext[s] is the class of state s (blanks between and around the
	// labels); skip[s] allows the jump from s-2 (between different labels).
	ext := make([]int32, S)
	skip := make([]bool, S)
	for i, l := range labels {
		ext[2*i+1] = int32(l)
		skip[2*i+1] = i > 0 && labels[i-1] != l
	}
	neg := math.Inf(-1)
	prev := make([]float64, S)
	cur := make([]float64, S)
	for s := range prev {
		prev[s] = neg
	}
	// back pointers, two bits per cell: 0 stay, 1 from s-1, 2 from s-2.
	back := make([]byte, (T*S+3)/4)
	row := lp.Row(0)
	prev[0] = float64(row[0])
	prev[1] = float64(row[labels[0]])
	for t := 1; t < T; t++ {
		row = lp.Row(t)
		// Only states that can still reach the end, and that can be reached.
		lo := max(0, S-2*(T-t)-1)
		hi := min(S, 2*t+2)
		for s := 0; s < lo; s++ {
			cur[s] = neg
		}
		base := t * S
		for s := lo; s < hi; s++ {
			best, from := prev[s], byte(0)
			if s >= 1 && prev[s-1] > best {
				best, from = prev[s-1], 1
			}
			if skip[s] && prev[s-2] > best {
				best, from = prev[s-2], 2
			}
			cur[s] = best + float64(row[ext[s]])
			if from != 0 {
				i := base + s
				back[i>>2] |= from << (2 * (i & 3))
			}
		}
		for s := hi; s < S; s++ {
			cur[s] = neg
		}
		prev, cur = cur, prev
	}
	s := S - 1
	if S >= 2 && prev[S-2] > prev[S-1] {
		s = S - 2
	}
	if math.IsInf(prev[s], -1) {
		return nil, fmt.Errorf("%w: the labels have probability zero", ErrInput)
	}
	spans := make([]span, L)
	for i := range spans {
		spans[i] = span{id: labels[i], first: -1, last: -1}
	}
	for t := T - 1; t >= 0; t-- {
		if s%2 == 1 {
			k := s / 2
			sp := &spans[k]
			if sp.last < 0 {
				sp.last = t
			}
			sp.first = t
			if p := math.Exp(float64(lp.Row(t)[sp.id])); p > sp.peak {
				sp.peak = p
			}
		}
		if t > 0 {
			i := t*S + s
			s -= int(back[i>>2] >> (2 * (i & 3)) & 3)
		}
	}
	return spans, nil
}

// LogLikelihood returns ln p(labels | lp): the CTC forward probability of
// the label sequence (blank 0, no blanks in labels) summed over all its
// alignments, or -Inf when no alignment fits in the frames.
func LogLikelihood(lp LogProbs, labels []int) (float64, error) {
	if err := lp.validateValues(); err != nil {
		return 0, err
	}
	for i, l := range labels {
		if l <= 0 || l >= lp.Vocab {
			return 0, fmt.Errorf("%w: label %d (position %d) is not a non-blank class of %d", ErrInput, l, i, lp.Vocab)
		}
	}
	T, L := lp.Frames, len(labels)
	if T == 0 {
		if L == 0 {
			return 0, nil
		}
		return math.Inf(-1), nil
	}
	S := 2*L + 1
	label := func(s int) int {
		if s%2 == 0 {
			return 0
		}
		return labels[s/2]
	}
	neg := math.Inf(-1)
	prev := make([]float64, S)
	cur := make([]float64, S)
	for s := range prev {
		prev[s] = neg
	}
	prev[0] = float64(lp.Row(0)[0])
	if L > 0 {
		prev[1] = float64(lp.Row(0)[labels[0]])
	}
	for t := 1; t < T; t++ {
		row := lp.Row(t)
		for s := 0; s < S; s++ {
			a := prev[s]
			if s >= 1 {
				a = logAdd(a, prev[s-1])
			}
			if s >= 2 && s%2 == 1 && label(s) != label(s-2) {
				a = logAdd(a, prev[s-2])
			}
			cur[s] = a + float64(row[label(s)])
		}
		prev, cur = cur, prev
	}
	if S == 1 {
		return prev[0], nil
	}
	return logAdd(prev[S-1], prev[S-2]), nil
}

func logAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}
