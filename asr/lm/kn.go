package lm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Discounts are modified Kneser-Ney's three discounts of one order: D1 for
// n-grams seen once, D2 twice, D3 three or more times (adjusted counts).
type Discounts [3]float64

// FallbackDiscounts are KenLM's --discount_fallback values, a common
// choice for orders whose statistics cannot give valid discounts.
var FallbackDiscounts = Discounts{0.5, 1.0, 1.5}

// ErrDiscounts is wrapped by [Estimator.Build]'s error when an order's
// count-of-counts cannot give valid discounts (small or artificial text)
// and no fallback was given.
var ErrDiscounts = errors.New("lm: cannot estimate Kneser-Ney discounts")

// Estimator counts n-grams of sentences and estimates an interpolated
// modified Kneser-Ney model (Chen & Goodman 1998, with three discounts per
// order, as KenLM's lmplz does). Add sentences with [Estimator.AddSentence]
// or [Estimator.ReadText], then call [Estimator.Build]. The model's
// vocabulary is the words seen plus <s>, </s> and <unk>: <unk> gets no
// count, so its probability is the unigram interpolation mass spread
// uniformly, γ(ε)/|V|, where |V| counts every word except <s>.
type Estimator struct {
	order     int
	ids       map[string]int32
	words     []string
	full      map[string]int64   // highest-order n-gram counts
	bosGrams  []map[string]int64 // counts of n-grams shorter than the order that start with <s>, by length-1
	sentences int
	tokens    int
	buf       []byte
}

// BuildOptions tune [Estimator.Build].
type BuildOptions struct {
	// DiscountFallback, when non-nil, replaces the discounts of an order
	// whose count-of-counts give none in range (0 ≤ Dk ≤ k, and n-grams
	// seen 1, 2 and 3 times must exist). Nil makes that an error wrapping
	// [ErrDiscounts], as KenLM does without --discount_fallback.
	DiscountFallback *Discounts
}

// BuildInfo reports what [Estimator.Build] estimated.
type BuildInfo struct {
	Sentences, Tokens int         // sentences and words added (no <s> or </s>)
	Discounts         []Discounts // per order, index 0 for unigrams
	Fallback          []bool      // per order: the fallback discounts were used
	// CountOfCounts[n][k-1] is the number of (n+1)-grams with adjusted
	// count k (k = 1..4), the statistics the discounts come from.
	CountOfCounts [][4]int64
}

const (
	unkID int32 = 0
	bosID int32 = 1
	eosID int32 = 2
)

// NewEstimator returns an estimator for models of the given order (≥ 1).
func NewEstimator(order int) (*Estimator, error) {
	if order < 1 || order > maxOrder {
		return nil, fmt.Errorf("lm: order %d out of range [1, %d]", order, maxOrder)
	}
	e := &Estimator{
		order:    order,
		ids:      map[string]int32{Unk: unkID, BOS: bosID, EOS: eosID},
		words:    []string{Unk, BOS, EOS},
		full:     map[string]int64{},
		bosGrams: make([]map[string]int64, order),
	}
	for i := range e.bosGrams {
		e.bosGrams[i] = map[string]int64{}
	}
	return e, nil
}

// AddSentence counts one sentence (its words, without <s> and </s>, which
// are added). Words must be non-empty and must not be <s> or </s>; <unk>
// counts as the unknown word. An empty sentence counts "<s> </s>".
func (e *Estimator) AddSentence(words []string) error {
	ids := make([]int32, 0, len(words)+2)
	ids = append(ids, bosID)
	for i, w := range words {
		switch {
		case w == "":
			return fmt.Errorf("lm: word %d of the sentence is empty", i+1)
		case w == BOS || w == EOS:
			return fmt.Errorf("lm: word %d of the sentence is %s, which the estimator adds itself", i+1, w)
		case strings.ContainsAny(w, " \t\n\r\v\f"):
			return fmt.Errorf("lm: word %d (%q) contains white space", i+1, w)
		}
		id, ok := e.ids[w]
		if !ok {
			id = int32(len(e.words))
			e.ids[w] = id
			e.words = append(e.words, w)
		}
		ids = append(ids, id)
	}
	ids = append(ids, eosID)
	for i := 1; i < len(ids); i++ {
		start := max(0, i-e.order+1)
		g := e.packKey(ids[start : i+1])
		if n := i - start + 1; n < e.order {
			e.bosGrams[n-1][g]++ // starts with <s>: cannot be extended to the left
		} else {
			e.full[g]++
		}
	}
	e.sentences++
	e.tokens += len(words)
	return nil
}

// ReadText counts every line of r as one sentence of space-separated words.
// The text should already be normalised (asr/text's Normalize); blank lines
// are skipped. Errors name the line.
func (e *Estimator) ReadText(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if err := e.AddSentence(f); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("lm: reading text after line %d: %w", line, err)
	}
	return nil
}

func (e *Estimator) packKey(ids []int32) string {
	e.buf = e.buf[:0]
	for _, id := range ids {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(id))
	}
	return string(e.buf)
}

func unpackKey(k string) []int32 {
	ids := make([]int32, len(k)/4)
	for i := range ids {
		ids[i] = int32(binary.LittleEndian.Uint32([]byte(k[4*i : 4*i+4])))
	}
	return ids
}

// gram is one n-gram of the estimate.
type gram struct {
	key     string // packed ids
	count   int64  // adjusted count
	prob    float64
	backoff float64 // γ of this n-gram as a context, 0 if not a context
	isCtx   bool
}

// contextStats accumulates, for one context, the sum of adjusted counts of
// its extensions and how many have adjusted count 1, 2 and 3+.
type contextStats struct {
	denom float64
	n     [3]int64
}

// gamma is the interpolation weight of the lower order after the context:
// the discounted mass (D1·n1 + D2·n2 + D3·n3+) / Σ counts.
func (s *contextStats) gamma(d Discounts) float64 {
	return (d[0]*float64(s.n[0]) + d[1]*float64(s.n[1]) + d[2]*float64(s.n[2])) / s.denom
}

// Build estimates the model. It can be called again after adding more text.
func (e *Estimator) Build(opts BuildOptions) (*Model, BuildInfo, error) {
	N := e.order
	info := BuildInfo{Sentences: e.sentences, Tokens: e.tokens, Discounts: make([]Discounts, N), Fallback: make([]bool, N)}
	if e.sentences == 0 {
		return nil, info, errors.New("lm: no sentences to estimate a model from")
	}
	// Adjusted counts: raw counts for the highest order and for n-grams
	// starting with <s>; for other n-grams, the number of distinct words
	// seen before them (continuation counts).
	adj := make([]map[string]int64, N)
	adj[N-1] = e.full
	if N == 1 {
		adj[0] = maps.Clone(e.full) // unigram <s> and <unk> are added below
	}
	for n := N - 1; n >= 1; n-- {
		m := make(map[string]int64, len(adj[n]))
		for k, c := range e.bosGrams[n-1] {
			m[k] = c
		}
		for k := range adj[n] {
			m[k[4:]]++
		}
		adj[n-1] = m
	}
	uni := adj[0]
	for _, id := range []int32{unkID, bosID} {
		k := e.packKey([]int32{id})
		if _, ok := uni[k]; !ok || id == bosID {
			uni[k] = 0 // <s> is never predicted; <unk> has no count
		}
	}
	// Discounts from count-of-counts.
	disc := make([]Discounts, N)
	info.CountOfCounts = make([][4]int64, N)
	for n := 0; n < N; n++ {
		var t [5]int64
		for _, c := range adj[n] {
			if c >= 1 && c <= 4 {
				t[c]++
			}
		}
		copy(info.CountOfCounts[n][:], t[1:])
		d, err := chenGoodman(t)
		if err != nil {
			if opts.DiscountFallback == nil {
				return nil, info, fmt.Errorf("%w for %d-grams: %v (small or artificial text? a fallback such as %v can be given)", ErrDiscounts, n+1, err, FallbackDiscounts)
			}
			d = *opts.DiscountFallback
			info.Fallback[n] = true
		}
		disc[n] = d
	}
	info.Discounts = disc
	discount := func(n int, c int64) float64 {
		switch {
		case c <= 0:
			return 0
		case c >= 3:
			return disc[n][2]
		}
		return disc[n][c-1]
	}
	// Context statistics per order: context key (n-1 words) → stats.
	vocab := float64(len(uni) - 1) // every word but <s>
	grams := make([]map[string]*gram, N)
	for n := 0; n < N; n++ {
		stats := map[string]*contextStats{}
		for k, c := range adj[n] {
			ctx := k[:len(k)-4]
			s := stats[ctx]
			if s == nil {
				s = &contextStats{}
				stats[ctx] = s
			}
			s.denom += float64(c)
			if c >= 1 {
				s.n[min(c, 3)-1]++
			}
		}
		gm := make(map[string]*gram, len(adj[n]))
		for k, c := range adj[n] {
			gamma := stats[k[:len(k)-4]].gamma(disc[n])
			s := stats[k[:len(k)-4]]
			var lower float64
			if n == 0 {
				lower = 1 / vocab
			} else {
				lower = grams[n-1][k[4:]].prob
			}
			g := &gram{key: k, count: c}
			if n == 0 && k == e.packKey([]int32{bosID}) {
				g.prob = 0
			} else {
				g.prob = (float64(c)-discount(n, c))/s.denom + gamma*lower
			}
			gm[k] = g
		}
		grams[n] = gm
		if n > 0 {
			for ctx, s := range stats {
				g := grams[n-1][ctx]
				g.isCtx = true
				g.backoff = s.gamma(disc[n])
			}
		}
	}
	// Assemble the model, shorter n-grams first.
	b := newBuilder(N)
	for n := 0; n < N; n++ {
		keys := make([]string, 0, len(grams[n]))
		for k := range grams[n] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		words := make([]string, n+1)
		for _, k := range keys {
			g := grams[n][k]
			for i, id := range unpackKey(k) {
				words[i] = e.words[id]
			}
			lp := float32(-99)
			if g.prob > 0 {
				lp = float32(math.Log10(g.prob))
			}
			var bo float32
			if g.isCtx {
				bo = float32(math.Log10(g.backoff))
			}
			var err error
			if n == 0 {
				err = b.addUnigram(words[0], lp, bo)
			} else {
				err = b.addNGram(words, lp, bo)
			}
			if err != nil {
				return nil, info, fmt.Errorf("lm: internal error assembling the model: %w", err)
			}
		}
	}
	return b.finish(), info, nil
}

// chenGoodman computes the three discounts from count-of-counts t[k] (the
// number of n-grams with adjusted count k, k = 1..4), equation (26) of Chen
// and Goodman (1998): Y = t1/(t1+2 t2), Dk = k - (k+1) Y t(k+1)/tk.
func chenGoodman(t [5]int64) (Discounts, error) {
	for k := 1; k <= 3; k++ {
		if t[k] == 0 {
			return Discounts{}, fmt.Errorf("no n-grams with adjusted count %d", k)
		}
	}
	y := float64(t[1]) / (float64(t[1]) + 2*float64(t[2]))
	var d Discounts
	for k := 1; k <= 3; k++ {
		d[k-1] = float64(k) - float64(k+1)*y*float64(t[k+1])/float64(t[k])
		if d[k-1] < 0 || d[k-1] > float64(k) {
			return Discounts{}, fmt.Errorf("discount D%d = %.4g is outside [0, %d]", k, d[k-1], k)
		}
	}
	return d, nil
}
