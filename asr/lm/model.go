package lm

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Special words of an n-gram model.
const (
	BOS = "<s>"   // sentence start: only ever a context
	EOS = "</s>"  // sentence end: predicted after the last word
	Unk = "<unk>" // every word outside the vocabulary
)

// Ln10 converts log10 (ARPA) to natural log: ln p = Ln10 · log10 p.
const Ln10 = math.Ln10

// NoUnkLog10Prob is the log10 probability given to a word outside the
// vocabulary of a model that has no <unk> (as KenLM does).
const NoUnkLog10Prob = -100

// State is the context of the next word: the longest suffix of the words
// scored so far that the model has as an n-gram. The zero State is the empty
// context (no history); [Model.BeginState] is the context of a sentence
// start. States are comparable: equal states give equal scores for every
// continuation.
type State int32

// Model is a word n-gram language model in backoff form (what an ARPA file
// holds). It is immutable and safe for concurrent use. Its scores are
// natural logarithms.
type Model struct {
	order int
	words []string         // word id → word; word id w is also the entry of the unigram w
	ids   map[string]int32 // word → word id
	nodes []node           // n-gram entries
	index map[uint64]int32 // (context entry+1)<<32 | word id → entry, for orders ≥ 2
	count []int            // n-grams per order (index 0: unigrams)
	unk   int32            // word id of <unk>, -1 if absent
	bos   int32            // word id of <s>, -1 if absent
	// sorted holds the vocabulary's real words (no <s>, </s> or <unk>) in
	// byte order, for HasPrefix.
	sorted []string
}

type node struct {
	ctx     int32 // entry of the n-gram without its last word, -1 for unigrams
	suffix  int32 // entry of the longest proper suffix n-gram, -1 for unigrams
	word    int32
	order   uint8
	hasExt  bool    // some longer n-gram has this one as its context
	logp    float32 // log10 probability
	backoff float32 // log10 backoff weight
}

func key(ctx, word int32) uint64 { return uint64(uint32(ctx+1))<<32 | uint64(uint32(word)) }

// Order returns the model order n (the longest n-gram).
func (m *Model) Order() int { return m.order }

// Counts returns the number of n-grams of each order (index 0: unigrams).
func (m *Model) Counts() []int { return append([]int(nil), m.count...) }

// VocabularySize returns the number of unigrams, <s>, </s> and <unk>
// included when present.
func (m *Model) VocabularySize() int { return len(m.words) }

// Words returns the vocabulary in unigram order.
func (m *Model) Words() []string { return append([]string(nil), m.words...) }

// Contains reports whether word is in the vocabulary.
func (m *Model) Contains(word string) bool {
	_, ok := m.ids[word]
	return ok
}

// BeginState returns the context of a sentence start (<s>), or the empty
// context when the model has no <s>.
func (m *Model) BeginState() State {
	if m.bos < 0 {
		return 0
	}
	return State(m.bos + 1)
}

// Score returns ln p(word | state) and the state after word. Words outside
// the vocabulary are scored as <unk>, or get log10 probability
// [NoUnkLog10Prob] and the empty context when the model has no <unk>.
// Score(state, EOS) ends a sentence.
func (m *Model) Score(s State, word string) (logProb float64, next State) {
	w, ok := m.ids[word]
	if !ok {
		if m.unk < 0 {
			return NoUnkLog10Prob * Ln10, 0
		}
		w = m.unk
	}
	lp, next := m.score(s, w)
	return float64(lp) * Ln10, next
}

// score returns the log10 probability of word id w after state s.
func (m *Model) score(s State, w int32) (float32, State) {
	var acc float32
	h := int32(s) - 1
	for {
		e := w // unigram entry
		ok := true
		if h >= 0 {
			e, ok = m.index[key(h, w)]
		}
		if ok {
			n := &m.nodes[e]
			next := e
			if int(n.order) == m.order {
				next = n.suffix
			}
			// Shorten the state to a context that matters: an n-gram that
			// extends nothing and has no backoff weight scores like its suffix.
			for next >= 0 && !m.nodes[next].hasExt && m.nodes[next].backoff == 0 {
				next = m.nodes[next].suffix
			}
			return acc + n.logp, State(next + 1)
		}
		acc += m.nodes[h].backoff
		h = m.nodes[h].suffix
	}
}

// HasPrefix reports whether some word of the vocabulary (other than <s>,
// </s> and <unk>) begins with prefix; every word is a prefix of itself. A
// decoder uses it to tell a partial word that may still become a known word
// from one that cannot.
func (m *Model) HasPrefix(prefix []byte) bool {
	// The first word not below prefix begins with it if any word does
	// (the string conversions in comparisons do not allocate).
	i := sort.Search(len(m.sorted), func(i int) bool { return m.sorted[i] >= string(prefix) })
	return i < len(m.sorted) && len(m.sorted[i]) >= len(prefix) && m.sorted[i][:len(prefix)] == string(prefix)
}

// WordID identifies a word of a model's vocabulary (see [Model.Lookup]).
type WordID int32

// Lookup returns the id of word, or, with ok false, the id that
// [Model.ScoreID] scores as an unknown word (<unk>'s, or an id meaning
// "no <unk>"). The word is given as bytes so that a decoder can look up
// words it assembles without allocating.
func (m *Model) Lookup(word []byte) (id WordID, ok bool) {
	if w, ok := m.ids[string(word)]; ok {
		return WordID(w), true
	}
	return WordID(m.unk), false
}

// ScoreID is [Model.Score] for a word id from [Model.Lookup].
func (m *Model) ScoreID(s State, w WordID) (logProb float64, next State) {
	if w < 0 || int(w) >= len(m.words) {
		return NoUnkLog10Prob * Ln10, 0
	}
	lp, next := m.score(s, int32(w))
	return float64(lp) * Ln10, next
}

// SentenceLogProb returns ln p(words..., </s> | <s>): the natural-log
// probability of a whole sentence, end included.
func (m *Model) SentenceLogProb(words []string) float64 {
	s := m.BeginState()
	var total float64
	for _, w := range words {
		lp, next := m.Score(s, w)
		total += lp
		s = next
	}
	lp, _ := m.Score(s, EOS)
	return total + lp
}

// Perplexity returns exp(-Σ ln p / N) over sentences, where N counts the
// words and one </s> per sentence; out-of-vocabulary words are scored as
// <unk> and counted (no word is skipped).
func (m *Model) Perplexity(sentences [][]string) float64 {
	var total float64
	n := 0
	for _, s := range sentences {
		total += m.SentenceLogProb(s)
		n += len(s) + 1
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(-total / float64(n))
}

// ngramWords returns the words of entry e, oldest first.
func (m *Model) ngramWords(e int32) []string {
	n := int(m.nodes[e].order)
	out := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = m.words[m.nodes[e].word]
		e = m.nodes[e].ctx
	}
	return out
}

// builder assembles a Model from n-grams given in order of increasing length.
type builder struct {
	m *Model
}

func newBuilder(order int) *builder {
	return newSizedBuilder(order, nil)
}

// maxPresize bounds the entries that a file's declared n-gram counts may
// reserve before they are read (a header claiming 10^12 n-grams must not
// allocate): 4M n-grams, about 100 MB of tables.
const maxPresize = 1 << 22

// newSizedBuilder is newBuilder with its tables sized for the n-gram
// counts a file declares (an ARPA header), so that reading it does not
// grow and rehash them: a third of the loading time of a 325k-n-gram
// model.
func newSizedBuilder(order int, counts []int) *builder {
	unigrams, total := 0, 0
	for i, c := range counts {
		if i == 0 {
			unigrams = c
		}
		total += c
	}
	unigrams, total = min(unigrams, maxPresize), min(total, maxPresize)
	return &builder{m: &Model{
		order: order,
		ids:   make(map[string]int32, unigrams),
		index: make(map[uint64]int32, total),
		nodes: make([]node, 0, total),
		count: make([]int, order),
		unk:   -1,
		bos:   -1,
	}}
}

// addUnigram adds a word and its unigram entry.
func (b *builder) addUnigram(word string, logp, backoff float32) error {
	m := b.m
	if _, dup := m.ids[word]; dup {
		return fmt.Errorf("duplicate 1-gram %q", word)
	}
	id := int32(len(m.words))
	m.words = append(m.words, word)
	m.ids[word] = id
	m.nodes = append(m.nodes, node{ctx: -1, suffix: -1, word: id, order: 1, logp: logp, backoff: backoff})
	m.count[0]++
	switch word {
	case Unk:
		m.unk = id
	case BOS:
		m.bos = id
	}
	return nil
}

// addNGram adds an n-gram (n ≥ 2) whose (n-1)-gram prefix and suffix were
// already added.
func (b *builder) addNGram(words []string, logp, backoff float32) error {
	m := b.m
	ctx := int32(-1)
	ids := make([]int32, len(words))
	for i, w := range words {
		id, ok := m.ids[w]
		if !ok {
			return fmt.Errorf("word %q is not among the 1-grams", w)
		}
		ids[i] = id
	}
	for i, id := range ids[:len(ids)-1] {
		if i == 0 {
			ctx = id
			continue
		}
		e, ok := m.index[key(ctx, id)]
		if !ok {
			return fmt.Errorf("%d-gram %q has no %d-gram %q (its context)", len(words), strings.Join(words, " "), i+1, strings.Join(words[:i+1], " "))
		}
		ctx = e
	}
	last := ids[len(ids)-1]
	k := key(ctx, last)
	if _, dup := m.index[k]; dup {
		return fmt.Errorf("duplicate %d-gram %q", len(words), strings.Join(words, " "))
	}
	// The suffix: the longest proper suffix present (normally words[1:]).
	suffix := int32(-1)
	for start := 1; start < len(ids) && suffix < 0; start++ {
		suffix = b.lookup(ids[start:])
	}
	e := int32(len(m.nodes))
	m.nodes = append(m.nodes, node{ctx: ctx, suffix: suffix, word: last, order: uint8(len(words)), logp: logp, backoff: backoff})
	m.index[k] = e
	m.nodes[ctx].hasExt = true
	m.count[len(words)-1]++
	return nil
}

// finish completes the model once every n-gram has been added.
func (b *builder) finish() *Model {
	m := b.m
	m.sorted = make([]string, 0, len(m.words))
	for _, w := range m.words {
		if w != BOS && w != EOS && w != Unk {
			m.sorted = append(m.sorted, w)
		}
	}
	slices.Sort(m.sorted)
	return m
}

// lookup returns the entry of the n-gram ids, or -1.
func (b *builder) lookup(ids []int32) int32 {
	e := ids[0]
	for _, id := range ids[1:] {
		next, ok := b.m.index[key(e, id)]
		if !ok {
			return -1
		}
		e = next
	}
	return e
}
