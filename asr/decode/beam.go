package decode

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/asr/text"
)

// Defaults of [Beam].
const (
	DefaultWidth            = 8
	DefaultTokenMinLogProb  = -5.0  // as pyctcdecode's token_min_logp
	DefaultBeamPruneLogProb = -10.0 // as pyctcdecode's beam_prune_logp
	DefaultLMWeight         = 0.5
	// DefaultUnknownWordPenalty is pyctcdecode's unk_score_offset.
	DefaultUnknownWordPenalty = -10.0
	// DefaultUnknownCharPenalty is the cost of each character of a word
	// after it has become unknown.
	DefaultUnknownCharPenalty = -2.0
)

// MaxWidth is the widest beam a Beam accepts. Wider beams cost time and
// memory in proportion to their width and gain nothing measurable on a
// character CTC model (pyctcdecode's default is 100, NeMo's up to 256).
const MaxWidth = 1024

// Beam is CTC prefix beam search (Hannun et al. 2014), optionally fused
// with a word n-gram language model. Its zero value searches 8 prefixes
// without a language model.
//
// At each frame every kept prefix is extended by blank, by its own last
// character (a repeat, which does not lengthen it) and by each character
// whose log-probability in the frame is at least TokenMinLogProb (the
// frame's best character always qualifies), unless the extended prefix
// would be more than BeamPruneLogProb below the frame's best prefix.
// Prefixes reached in several ways add their probabilities, and the Width
// best survive. Probabilities are kept in linear scale, renormalised every
// frame.
//
// With an LM, a prefix's rank is ln P(prefix) + LMWeight·ln P_LM(words) +
// WordBonus·words: a word is scored by the LM when the space after it is
// appended, and the last word and </s> when the utterance ends (shallow
// fusion at word boundaries). A word outside the LM's vocabulary, and a
// partial word that no vocabulary word begins with, also costs
// UnknownWordPenalty, and each character that such a partial word grows by
// UnknownCharPenalty: without them a weak acoustic model's beam glues words
// together, because one long unknown word costs the LM less than several
// known ones (pyctcdecode has the first penalty; the second keeps an
// unknown word from growing over whole sentences).
type Beam struct {
	Vocab         *text.Vocabulary // nil means text.DefaultVocabulary()
	FrameDuration time.Duration    // 0 means DefaultFrameDuration
	// Width is the number of prefixes kept per frame, at most MaxWidth; 0
	// means DefaultWidth. Width 1 keeps the most probable prefix frame by frame:
	// on peaky posteriors (each frame's best class above 0.5) that is the
	// greedy result, which the tests check on random such inputs.
	Width int
	// TokenMinLogProb prunes characters per frame: only those with a
	// log-probability at least this (natural log, < 0) extend prefixes. 0
	// means DefaultTokenMinLogProb (-5); -Inf disables this pruning.
	TokenMinLogProb float64
	// BeamPruneLogProb drops extensions and prefixes whose probability is
	// more than this many nats (< 0) below the best prefix of the frame
	// (acoustic probability only, before LM fusion). 0 means
	// DefaultBeamPruneLogProb (-10); -Inf disables this pruning.
	BeamPruneLogProb float64
	// LM, when set, is fused at word boundaries.
	LM *lm.Model
	// LMWeight is the weight of the LM's natural-log probability; 0 means
	// DefaultLMWeight when LM is set.
	LMWeight float64
	// WordBonus is added per word (natural-log units), with or without an
	// LM; 0 means none. With an LM it offsets the LM's per-word cost
	// (values of 0.5-2 are usual; tune both on held-out data).
	WordBonus float64
	// UnknownWordPenalty (natural log, < 0) is added, with an LM, for each
	// word outside the LM's vocabulary and for a partial word that no
	// vocabulary word begins with. 0 means DefaultUnknownWordPenalty (-10);
	// a value close to 0 such as -1e-9 practically turns it off.
	UnknownWordPenalty float64
	// UnknownCharPenalty (natural log, < 0) is added, with an LM, for each
	// character appended to a partial word that no vocabulary word begins
	// with. 0 means DefaultUnknownCharPenalty (-2); -1e-9 practically
	// turns it off.
	UnknownCharPenalty float64
}

// beamSettings are a Beam's values with defaults applied.
type beamSettings struct {
	width        int
	minLP, prune float64 // log-probabilities
	alpha        float64
	unk, unkChar float64
}

// Validate reports settings that Decode would refuse (a negative width or
// one above MaxWidth, a log-probability above 0, a NaN or infinite weight,
// bonus or penalty), so that a caller can check them once, before decoding
// anything.
func (b Beam) Validate() error {
	_, err := b.settings()
	return err
}

func (b Beam) settings() (beamSettings, error) {
	bs := beamSettings{width: b.Width, minLP: b.TokenMinLogProb, prune: b.BeamPruneLogProb, alpha: b.LMWeight, unk: b.UnknownWordPenalty, unkChar: b.UnknownCharPenalty}
	switch {
	case bs.width < 0:
		return bs, fmt.Errorf("decode: beam width %d is negative", bs.width)
	case bs.width > MaxWidth:
		return bs, fmt.Errorf("decode: beam width %d is above the maximum, %d", bs.width, MaxWidth)
	case bs.minLP > 0 || math.IsNaN(bs.minLP):
		return bs, fmt.Errorf("decode: TokenMinLogProb %v must be a log-probability (≤ 0)", bs.minLP)
	case bs.prune > 0 || math.IsNaN(bs.prune):
		return bs, fmt.Errorf("decode: BeamPruneLogProb %v must be ≤ 0", bs.prune)
	case bs.alpha < 0 || math.IsNaN(bs.alpha) || math.IsInf(bs.alpha, 0):
		return bs, fmt.Errorf("decode: LMWeight: language-model weight %v must be finite and ≥ 0", bs.alpha)
	case bs.unk > 0 || math.IsNaN(bs.unk) || math.IsInf(bs.unk, 0):
		return bs, fmt.Errorf("decode: UnknownWordPenalty %v must be finite and ≤ 0", bs.unk)
	case bs.unkChar > 0 || math.IsNaN(bs.unkChar) || math.IsInf(bs.unkChar, 0):
		return bs, fmt.Errorf("decode: UnknownCharPenalty %v must be finite and ≤ 0", bs.unkChar)
	case math.IsNaN(b.WordBonus) || math.IsInf(b.WordBonus, 0):
		return bs, fmt.Errorf("decode: WordBonus: word bonus %v must be finite", b.WordBonus)
	case b.FrameDuration < 0:
		return bs, fmt.Errorf("decode: negative FrameDuration %v", b.FrameDuration)
	}
	if bs.width == 0 {
		bs.width = DefaultWidth
	}
	if bs.minLP == 0 {
		bs.minLP = DefaultTokenMinLogProb
	}
	if bs.prune == 0 {
		bs.prune = DefaultBeamPruneLogProb
	}
	if bs.alpha == 0 {
		bs.alpha = DefaultLMWeight
	}
	if bs.unk == 0 {
		bs.unk = DefaultUnknownWordPenalty
	}
	if bs.unkChar == 0 {
		bs.unkChar = DefaultUnknownCharPenalty
	}
	return bs, nil
}

// bnode is a node of the prefix tree: the prefix is the path from the root.
type bnode struct {
	parent      int32 // -1 at the root
	token       int32 // last character of the prefix, -1 at the root
	wordStart   int32 // node of the current word's first character, -1 outside a word
	stamp, slot int32 // candidate slot for frame stamp
	words       int32 // completed words
	lmState     lm.State
	lmScore     float64 // ln P_LM of the completed words
	unkCost     float64 // penalties of the completed words outside the LM's vocabulary
	partCost    float64 // penalty of the partial word so far (0 while it may become a known word)
	bonus       float64 // alpha·lmScore + beta·words + unkCost
	rank        float64 // bonus + partCost
	dead        bool    // the partial word begins no word of the LM's vocabulary
}

// cand is a prefix with its probabilities (scaled) of ending in blank (pb)
// and in its last character (pnb).
type cand struct {
	node    int32
	pb, pnb float64
	key     float64
}

type searcher struct {
	v            *text.Vocabulary
	space        int32
	lm           *lm.Model
	alpha, beta  float64
	unk, unkChar float64 // UnknownWordPenalty and UnknownCharPenalty, with an LM
	ranked       bool    // rank by log-probability plus bonus, not by probability
	nodes        []bnode
	cands        []cand
	beams, next  []cand
	probs        []float64
	have         []int32
	toks         []int32
	word         []byte
	children     childTable
}

// searchers recycles search memory between calls.
var searchers = sync.Pool{New: func() any { return new(searcher) }}

// Decode decodes one utterance. Word times and confidences come from the
// Viterbi alignment of the chosen text to lp.
func (b Beam) Decode(ctx context.Context, lp LogProbs) (Result, error) {
	bs, err := b.settings()
	if err != nil {
		return Result{}, err
	}
	v, fd := vocabOr(b.Vocab), frameOr(b.FrameDuration)
	if err := lp.validate(v); err != nil {
		return Result{}, err
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	*s = searcher{
		v: v, space: int32(v.Space()), lm: b.LM, beta: b.WordBonus,
		nodes: s.nodes[:0], cands: s.cands[:0], beams: s.beams[:0], next: s.next[:0],
		probs: s.probs[:0], have: s.have[:0], toks: s.toks[:0], word: s.word[:0], children: s.children,
	}
	if b.LM != nil {
		s.alpha, s.unk, s.unkChar = bs.alpha, bs.unk, bs.unkChar
	}
	s.ranked = s.lm != nil || s.beta != 0
	s.children.reset(16 * lp.Frames)
	root := bnode{parent: -1, token: -1, wordStart: -1, stamp: -1}
	if s.lm != nil {
		root.lmState = s.lm.BeginState()
	}
	s.nodes = append(s.nodes, root)
	s.beams = append(s.beams, cand{node: 0, pb: 1})
	best, err := s.search(ctx, lp, bs)
	if err != nil {
		return Result{}, err
	}
	res := best.res
	var labels []int
	for n := best.node; n > 0; n = s.nodes[n].parent {
		labels = append(labels, int(s.nodes[n].token))
	}
	slices.Reverse(labels)
	// The best path is the Viterbi alignment of its own text: when the
	// search chose that text, skip the alignment.
	spans, _ := bestPath(lp)
	same := len(spans) == len(labels)
	for i := 0; same && i < len(spans); i++ {
		same = spans[i].id == labels[i]
	}
	if !same {
		if spans, err = align(lp, labels); err != nil {
			return Result{}, fmt.Errorf("decode: aligning the best prefix: %w", err)
		}
	}
	res.Words, res.Text = words(spans, v, fd)
	return res, nil
}

type final struct {
	node int32
	res  Result
}

// search runs the frames and returns the best final prefix.
func (s *searcher) search(ctx context.Context, lp LogProbs, bs beamSettings) (final, error) {
	V := lp.Vocab
	s.probs = slices.Grow(s.probs[:0], V)[:V]
	probs := s.probs // probs[c] is exp(row[c]) when have[c] == t+1
	s.have = slices.Grow(s.have[:0], V)[:V]
	have := s.have
	clear(have)
	pruneLin := math.Exp(bs.prune) // extensions below this (the best prefix is 1) are dropped
	logScale := 0.0
	for t := 0; t < lp.Frames; t++ {
		if t%64 == 0 {
			if err := ctx.Err(); err != nil {
				return final{}, err
			}
		}
		row := lp.Row(t)
		top := 1
		for c := 2; c < V; c++ {
			if row[c] > row[top] {
				top = c
			}
		}
		toks := s.toks[:0]
		stamp := int32(t + 1)
		for c := 1; c < V; c++ {
			if float64(row[c]) >= bs.minLP || c == top {
				toks = append(toks, int32(c))
				probs[c], have[c] = math.Exp(float64(row[c])), stamp
			}
		}
		s.toks = toks
		pBlank := math.Exp(float64(row[0]))
		s.cands = s.cands[:0]
		for _, bm := range s.beams {
			n := bm.node
			total := bm.pb + bm.pnb
			i := s.slot(n, t)
			s.cands[i].pb += total * pBlank
			last := s.nodes[n].token
			if last > 0 && bm.pnb > 0 {
				if have[last] != stamp {
					probs[last], have[last] = math.Exp(float64(row[last])), stamp
				}
				s.cands[i].pnb += bm.pnb * probs[last]
			}
			for _, c := range toks {
				from := total
				if c == last {
					from = bm.pb
				}
				p := from * probs[c]
				if p < pruneLin {
					continue
				}
				j := s.slot(s.child(n, c), t)
				s.cands[j].pnb += p
			}
		}
		// Keep the best width prefixes within the pruning margin.
		m := 0.0
		for _, c := range s.cands {
			m = max(m, c.pb+c.pnb)
		}
		if !(m > 0) {
			return final{}, fmt.Errorf("%w: every prefix has probability zero at frame %d", ErrInput, t)
		}
		floor := m * pruneLin
		kept := s.cands[:0]
		for _, c := range s.cands {
			if tot := c.pb + c.pnb; tot >= floor {
				if s.ranked {
					c.key = math.Log(tot) + s.nodes[c.node].rank
				} else {
					c.key = tot
				}
				kept = append(kept, c)
			}
		}
		kept = topK(kept, bs.width)
		s.next = append(s.next[:0], kept...)
		for i := range s.next {
			s.next[i].pb /= m
			s.next[i].pnb /= m
		}
		logScale += math.Log(m)
		s.beams, s.next = s.next, s.beams
	}
	// Score the last word and </s>, pick the best.
	best := final{res: Result{Score: math.Inf(-1)}}
	for _, bm := range s.beams {
		n := &s.nodes[bm.node]
		ac := math.Log(bm.pb+bm.pnb) + logScale
		lmScore, words, unkCost, st := n.lmScore, n.words, n.unkCost, n.lmState
		if n.wordStart >= 0 {
			words++
			if s.lm != nil {
				id, known := s.lm.Lookup(s.wordOf(bm.node))
				lp, next := s.lm.ScoreID(st, id)
				lmScore, st = lmScore+lp, next
				unkCost += s.unknownCost(n, known)
			}
		}
		if s.lm != nil {
			lp, _ := s.lm.Score(st, lm.EOS)
			lmScore += lp
		}
		score := ac + s.alpha*lmScore + s.beta*float64(words) + unkCost
		if score > best.res.Score || best.res.Score == math.Inf(-1) {
			best = final{node: bm.node, res: Result{LogProb: ac, LMLogProb: lmScore, Score: score}}
		}
	}
	return best, nil
}

// topK moves the k candidates with the highest keys (ties: lower node id)
// to the front, in no particular order, and returns them (quickselect).
func topK(c []cand, k int) []cand {
	if len(c) <= k {
		return c
	}
	lo, hi := 0, len(c)-1
	for lo < hi {
		// Median of three as the pivot, moved to hi.
		mid := int(uint(lo+hi) >> 1)
		if better(&c[mid], &c[lo]) {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if better(&c[hi], &c[lo]) {
			c[hi], c[lo] = c[lo], c[hi]
		}
		if better(&c[mid], &c[hi]) {
			c[mid], c[hi] = c[hi], c[mid]
		}
		pivot := c[hi]
		i := lo
		for j := lo; j < hi; j++ {
			if better(&c[j], &pivot) {
				c[i], c[j] = c[j], c[i]
				i++
			}
		}
		c[i], c[hi] = c[hi], c[i]
		switch {
		case i == k-1 || i == k:
			return c[:k]
		case i < k:
			lo = i + 1
		default:
			hi = i - 1
		}
	}
	return c[:k]
}

// better orders candidates: higher key first, then lower node id.
func better(a, b *cand) bool { return a.key > b.key || (a.key == b.key && a.node < b.node) }

// slot returns the index in s.cands of node n's candidate for frame t,
// adding an empty one if needed.
func (s *searcher) slot(n int32, t int) int {
	nd := &s.nodes[n]
	if nd.stamp == int32(t) {
		return int(nd.slot)
	}
	nd.stamp, nd.slot = int32(t), int32(len(s.cands))
	s.cands = append(s.cands, cand{node: n})
	return int(nd.slot)
}

// child returns the node of prefix n extended by character c, creating it.
func (s *searcher) child(n, c int32) int32 {
	slot, found := s.children.find(n, c)
	if found {
		return s.children.vals[slot]
	}
	p := &s.nodes[n]
	id := int32(len(s.nodes))
	nd := bnode{parent: n, token: c, wordStart: -1, stamp: -1,
		words: p.words, lmState: p.lmState, lmScore: p.lmScore, unkCost: p.unkCost, bonus: p.bonus, rank: p.bonus}
	if c == s.space {
		if p.wordStart >= 0 { // a word ends
			nd.words++
			if s.lm != nil {
				id, known := s.lm.Lookup(s.wordOf(n))
				lp, st := s.lm.ScoreID(p.lmState, id)
				nd.lmScore += lp
				nd.lmState = st
				nd.unkCost += s.unknownCost(p, known)
			}
			nd.bonus = s.alpha*nd.lmScore + s.beta*float64(nd.words) + nd.unkCost
			nd.rank = nd.bonus
		}
	} else {
		if p.wordStart >= 0 {
			nd.wordStart = p.wordStart
		} else {
			nd.wordStart = id
		}
		if s.lm != nil {
			// Once a partial word begins no known word, its extensions cannot either.
			switch {
			case p.wordStart >= 0 && p.dead:
				nd.dead, nd.partCost = true, p.partCost+s.unkChar
			case !s.lm.HasPrefix(s.partialWord(n, c)):
				nd.dead, nd.partCost = true, s.unk
			}
			nd.rank = nd.bonus + nd.partCost
		}
	}
	s.nodes = append(s.nodes, nd)
	s.children.insert(slot, n, c, id)
	return id
}

// partialWord returns the partial word of prefix n extended by character
// c (n ends inside a word or at a word boundary), in the buffer of wordOf.
func (s *searcher) partialWord(n, c int32) []byte {
	w := s.word[:0]
	if s.nodes[n].wordStart >= 0 {
		w = s.wordOf(n)
	}
	s.word = append(w, s.v.Symbol(int(c))...)
	return s.word
}

// unknownCost is the penalty of the word that ends at node n: known says
// whether the LM has it. A word that died on the way carries the penalty it
// accumulated; one that is only a prefix of known words costs
// UnknownWordPenalty.
func (s *searcher) unknownCost(n *bnode, known bool) float64 {
	switch {
	case known:
		return 0
	case n.dead:
		return n.partCost
	default:
		return s.unk
	}
}

// childTable maps (node, character) to the child node: an open-addressing
// hash table with linear probing.
type childTable struct {
	keys []uint64 // node<<32 | char, plus 1; 0 marks an empty slot
	vals []int32
	n    int
}

func (h *childTable) reset(hint int) {
	size := 64
	for size < 2*hint {
		size *= 2
	}
	if cap(h.keys) >= size {
		// Keep a table that grew in an earlier search: it will be needed again.
		h.keys, h.vals = h.keys[:cap(h.keys)], h.vals[:cap(h.keys)]
		clear(h.keys)
	} else {
		h.keys, h.vals = make([]uint64, size), make([]int32, size)
	}
	h.n = 0
}

func childKey(n, c int32) uint64 { return (uint64(uint32(n))<<32 | uint64(uint32(c))) + 1 }

// find returns the slot of (n, c), or the empty slot where it belongs.
func (h *childTable) find(n, c int32) (int, bool) {
	k := childKey(n, c)
	mask := len(h.keys) - 1
	i := int((k*0x9E3779B97F4A7C15)>>32) & mask
	for {
		switch h.keys[i] {
		case k:
			return i, true
		case 0:
			return i, false
		}
		i = (i + 1) & mask
	}
}

// insert stores (n, c) → v in the empty slot that find returned.
func (h *childTable) insert(slot int, n, c, v int32) {
	h.keys[slot], h.vals[slot] = childKey(n, c), v
	h.n++
	if 2*h.n > len(h.keys) { // grow to keep probes short
		oldK, oldV := h.keys, h.vals
		h.keys, h.vals = make([]uint64, 2*len(oldK)), make([]int32, 2*len(oldK))
		mask := len(h.keys) - 1
		for j, k := range oldK {
			if k == 0 {
				continue
			}
			i := int((k*0x9E3779B97F4A7C15)>>32) & mask
			for h.keys[i] != 0 {
				i = (i + 1) & mask
			}
			h.keys[i], h.vals[i] = k, oldV[j]
		}
	}
}

// wordOf returns the word that ends at node n (n is inside a word), in a
// buffer reused by the next call.
func (s *searcher) wordOf(n int32) []byte {
	s.word = s.word[:0]
	start := s.nodes[n].wordStart
	for ; ; n = s.nodes[n].parent {
		sym := s.v.Symbol(int(s.nodes[n].token))
		for i := len(sym) - 1; i >= 0; i-- {
			s.word = append(s.word, sym[i])
		}
		if n == start {
			break
		}
	}
	slices.Reverse(s.word)
	return s.word
}
