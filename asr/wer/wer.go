package wer

import (
	"strings"
	"unicode/utf8"
)

// Op is one step of an alignment between a reference and a hypothesis.
type Op uint8

const (
	Hit Op = iota // the tokens are equal
	Sub           // a reference token replaced by a different hypothesis token
	Del           // a reference token missing from the hypothesis
	Ins           // a hypothesis token with no reference token
)

// String returns "hit", "sub", "del" or "ins".
func (o Op) String() string {
	switch o {
	case Hit:
		return "hit"
	case Sub:
		return "sub"
	case Del:
		return "del"
	case Ins:
		return "ins"
	}
	return "op(" + string(rune('0'+o)) + ")"
}

// Edit is one aligned pair: Ref is "" for an insertion, Hyp is "" for a
// deletion.
type Edit struct {
	Op       Op
	Ref, Hyp string
}

// Counts are the totals of an alignment, or of many (see [Counts.Add]).
// Rates over many utterances are computed from summed counts, never by
// averaging per-utterance rates.
type Counts struct {
	Hits, Subs, Dels, Ins int
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Hits += o.Hits
	c.Subs += o.Subs
	c.Dels += o.Dels
	c.Ins += o.Ins
}

// RefLen is N, the number of reference tokens: hits + substitutions + deletions.
func (c Counts) RefLen() int { return c.Hits + c.Subs + c.Dels }

// HypLen is the number of hypothesis tokens: hits + substitutions + insertions.
func (c Counts) HypLen() int { return c.Hits + c.Subs + c.Ins }

// Errors is substitutions + deletions + insertions.
func (c Counts) Errors() int { return c.Subs + c.Dels + c.Ins }

// ErrorRate is (S+D+I)/N: the word error rate of word counts, the character
// error rate of character counts. It can exceed 1. With an empty reference
// (N = 0) it is the number of insertions, as jiwer defines it: 0 when the
// hypothesis is empty too.
func (c Counts) ErrorRate() float64 {
	n := c.RefLen()
	if n == 0 {
		return float64(c.Ins)
	}
	return float64(c.Errors()) / float64(n)
}

// MER is the match error rate (S+D+I)/(H+S+D+I), in [0, 1]; 0 when both
// sides are empty.
func (c Counts) MER() float64 {
	d := c.Hits + c.Errors()
	if d == 0 {
		return 0
	}
	return float64(c.Errors()) / float64(d)
}

// WIP is the word information preserved (H/N)·(H/M): 1 when both sides are
// empty, 0 when only one is.
func (c Counts) WIP() float64 {
	n, m := c.RefLen(), c.HypLen()
	switch {
	case n == 0 && m == 0:
		return 1
	case n == 0 || m == 0:
		return 0
	}
	return float64(c.Hits) / float64(n) * float64(c.Hits) / float64(m)
}

// WIL is the word information lost, 1 - WIP.
func (c Counts) WIL() float64 { return 1 - c.WIP() }

// Costs are the edit costs an alignment minimises (hits cost 0), and how
// it chooses among alignments of equal cost.
type Costs struct {
	Sub, Del, Ins int
	// MostHits takes, among alignments of minimum cost, one with the most
	// hits (MER, WIL and WIP depend on it). When false, ties are broken
	// only by sclite's local order (see [Align]).
	MostHits bool
}

var (
	// UnitCosts is the Levenshtein distance of jiwer, Kaldi's compute-wer
	// and most toolkits: every edit costs 1. Among alignments of equal cost
	// the one with the most hits is chosen.
	UnitCosts = Costs{Sub: 1, Del: 1, Ins: 1, MostHits: true}
	// SCLITECosts are NIST sclite's weights (substitution 4, insertion and
	// deletion 3). They prefer a deletion plus an insertion to two
	// substitutions, and give exactly sclite's substitution, deletion and
	// insertion counts (its tie-breaking included).
	SCLITECosts = Costs{Sub: 4, Del: 3, Ins: 3}
)

// Alignment is a minimum-cost alignment of a reference and a hypothesis.
type Alignment struct {
	Counts
	Edits []Edit // in order, from the start of both sequences
}

// back pointers
const (
	fromDiag uint8 = iota
	fromUp         // deletion: consumed a reference token
	fromLeft       // insertion: consumed a hypothesis token
)

// Align aligns the token sequences ref and hyp with the given costs (all
// must be positive; zero or negative costs are replaced by 1). Among
// alignments of equal cost it takes one with the most hits when
// costs.MostHits is set; remaining ties follow sclite's rule, cell by cell
// of the dynamic programme: a hit or substitution when it is no worse than
// both others, else a deletion when strictly better than an insertion, else
// an insertion. Time is O(len(ref)·len(hyp)), memory one byte per cell.
func Align(ref, hyp []string, costs Costs) Alignment {
	if costs.Sub <= 0 {
		costs.Sub = 1
	}
	if costs.Del <= 0 {
		costs.Del = 1
	}
	if costs.Ins <= 0 {
		costs.Ins = 1
	}
	n, m := len(ref), len(hyp)
	w := m + 1
	back := make([]uint8, (n+1)*w)
	cost := make([]int, 2*w) // two rows
	hits := make([]int, 2*w)
	prevC, curC := cost[:w], cost[w:]
	prevH, curH := hits[:w], hits[w:]
	for j := 1; j <= m; j++ {
		prevC[j] = prevC[j-1] + costs.Ins
		back[j] = fromLeft
	}
	for i := 1; i <= n; i++ {
		curC[0] = prevC[0] + costs.Del
		curH[0] = 0
		back[i*w] = fromUp
		for j := 1; j <= m; j++ {
			dc, dh := prevC[j-1], prevH[j-1]
			if ref[i-1] == hyp[j-1] {
				dh++
			} else {
				dc += costs.Sub
			}
			uc, uh := prevC[j]+costs.Del, prevH[j]
			lc, lh := curC[j-1]+costs.Ins, curH[j-1]
			if !costs.MostHits {
				dh, uh, lh = 0, 0, 0
			}
			// (cost, -hits) ordered lexicographically; sclite's order on ties.
			var bc, bh int
			var b uint8
			switch {
			case !better(uc, uh, dc, dh) && !better(lc, lh, dc, dh):
				bc, bh, b = dc, dh, fromDiag
			case better(uc, uh, lc, lh):
				bc, bh, b = uc, uh, fromUp
			default:
				bc, bh, b = lc, lh, fromLeft
			}
			curC[j], curH[j] = bc, bh
			back[i*w+j] = b
		}
		prevC, curC = curC, prevC
		prevH, curH = curH, prevH
	}
	var a Alignment
	edits := make([]Edit, 0, max(n, m))
	for i, j := n, m; i > 0 || j > 0; {
		switch back[i*w+j] {
		case fromDiag:
			i--
			j--
			if ref[i] == hyp[j] {
				edits = append(edits, Edit{Hit, ref[i], hyp[j]})
				a.Hits++
			} else {
				edits = append(edits, Edit{Sub, ref[i], hyp[j]})
				a.Subs++
			}
		case fromUp:
			i--
			edits = append(edits, Edit{Op: Del, Ref: ref[i]})
			a.Dels++
		default:
			j--
			edits = append(edits, Edit{Op: Ins, Hyp: hyp[j]})
			a.Ins++
		}
	}
	for l, r := 0, len(edits)-1; l < r; l, r = l+1, r-1 {
		edits[l], edits[r] = edits[r], edits[l]
	}
	a.Edits = edits
	return a
}

// better orders (cost, hits) pairs: lower cost, then more hits.
func better(c1, h1, c2, h2 int) bool { return c1 < c2 || (c1 == c2 && h1 > h2) }

// Words aligns the words of ref and hyp (split on white space) with unit
// costs. Apply text.Normalize to both first when case and punctuation
// should not count.
func Words(ref, hyp string) Alignment {
	return Align(strings.Fields(ref), strings.Fields(hyp), UnitCosts)
}

// Chars aligns the characters of ref and hyp with unit costs, after
// collapsing runs of white space to one space and trimming both ends (the
// spaces between words count as characters, as in jiwer's cer).
func Chars(ref, hyp string) Alignment {
	return Align(chars(ref), chars(hyp), UnitCosts)
}

func chars(s string) []string {
	s = strings.Join(strings.Fields(s), " ")
	out := make([]string, 0, utf8.RuneCountInString(s))
	for i, r := range s {
		out = append(out, s[i:i+utf8.RuneLen(r)])
	}
	return out
}

// Pretty returns the alignment as two lines in sclite's style: correct
// tokens in lower case, errors in upper case, and asterisks for the missing
// side of insertions and deletions, each column padded to the same width.
func (a Alignment) Pretty() (ref, hyp string) {
	var r, h strings.Builder
	for k, e := range a.Edits {
		if k > 0 {
			r.WriteByte(' ')
			h.WriteByte(' ')
		}
		rs, hs := strings.ToLower(e.Ref), strings.ToLower(e.Hyp)
		if e.Op != Hit {
			rs, hs = strings.ToUpper(e.Ref), strings.ToUpper(e.Hyp)
		}
		width := max(utf8.RuneCountInString(rs), utf8.RuneCountInString(hs))
		if e.Op == Ins {
			rs = strings.Repeat("*", width)
		}
		if e.Op == Del {
			hs = strings.Repeat("*", width)
		}
		r.WriteString(rs + strings.Repeat(" ", width-utf8.RuneCountInString(rs)))
		h.WriteString(hs + strings.Repeat(" ", width-utf8.RuneCountInString(hs)))
	}
	return strings.TrimRight(r.String(), " "), strings.TrimRight(h.String(), " ")
}

// Corpus sums word and character counts over utterances.
type Corpus struct {
	Words, Chars Counts
	Utterances   int // utterances added
	WithErrors   int // utterances with at least one word error
}

// Add aligns one utterance (words and characters, unit costs), adds its
// counts and returns the word alignment.
func (c *Corpus) Add(ref, hyp string) Alignment {
	w := Words(ref, hyp)
	c.Words.Add(w.Counts)
	c.Chars.Add(Chars(ref, hyp).Counts)
	c.Utterances++
	if w.Errors() > 0 {
		c.WithErrors++
	}
	return w
}

// WER is the corpus word error rate from summed counts.
func (c *Corpus) WER() float64 { return c.Words.ErrorRate() }

// CER is the corpus character error rate from summed counts.
func (c *Corpus) CER() float64 { return c.Chars.ErrorRate() }
