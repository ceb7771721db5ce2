package decode

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/testutil"
)

var ctx = context.Background()

// probsToLogProbs builds LogProbs from rows of probabilities.
func probsToLogProbs(t testing.TB, rows [][]float64) LogProbs {
	t.Helper()
	lr := make([][]float32, len(rows))
	for i, r := range rows {
		lr[i] = make([]float32, len(r))
		for j, p := range r {
			lr[i][j] = float32(math.Log(p))
		}
	}
	lp, err := FromRows(lr)
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

func mustVocab(t testing.TB, symbols ...string) *text.Vocabulary {
	t.Helper()
	v, err := text.NewVocabulary(append([]string{text.BlankSymbol}, symbols...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// oneHotish returns a row where class c has probability p and the rest share
// 1-p equally.
func oneHotish(v, c int, p float64) []float64 {
	r := make([]float64, v)
	for i := range r {
		r[i] = (1 - p) / float64(v-1)
	}
	r[c] = p
	return r
}

// TestGreedyCrafted decodes a matrix whose answer is known: frames
// a a _ b _ ␣ ␣ a _ _ with 100 ms frames over {blank, space, a, b}.
func TestGreedyCrafted(t *testing.T) {
	v := mustVocab(t, " ", "a", "b")
	const blank, sp, a, b = 0, 1, 2, 3
	frames := []struct {
		c int
		p float64
	}{{a, 0.9}, {a, 0.7}, {blank, 0.8}, {b, 0.6}, {blank, 0.9}, {sp, 0.8}, {sp, 0.9}, {a, 0.95}, {blank, 0.9}, {blank, 0.9}}
	var rows [][]float64
	wantLogProb := 0.0
	for _, f := range frames {
		rows = append(rows, oneHotish(4, f.c, f.p))
		wantLogProb += math.Log(f.p)
	}
	lp := probsToLogProbs(t, rows)
	for _, d := range []Decoder{Greedy{Vocab: v, FrameDuration: 100 * time.Millisecond}, Beam{Vocab: v, FrameDuration: 100 * time.Millisecond}} {
		res, err := d.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != "ab a" {
			t.Fatalf("%T: text %q, want %q", d, res.Text, "ab a")
		}
		want := []Word{
			{Text: "ab", Start: 0, End: 400 * time.Millisecond, Confidence: (0.9 + 0.6) / 2},
			{Text: "a", Start: 700 * time.Millisecond, End: 800 * time.Millisecond, Confidence: 0.95},
		}
		if len(res.Words) != len(want) {
			t.Fatalf("%T: words %+v", d, res.Words)
		}
		for i := range want {
			w := res.Words[i]
			if w.Text != want[i].Text || w.Start != want[i].Start || w.End != want[i].End || math.Abs(w.Confidence-want[i].Confidence) > 1e-6 {
				t.Errorf("%T: word %d = %+v, want %+v", d, i, w, want[i])
			}
		}
		if _, ok := d.(Greedy); ok && math.Abs(res.LogProb-wantLogProb) > 1e-5 {
			t.Errorf("greedy LogProb %v, want %v", res.LogProb, wantLogProb)
		}
	}
}

// remap moves class `blank` to index 0, keeping the order of the others.
func remap(k, blank int) int {
	switch {
	case k == blank:
		return 0
	case k < blank:
		return k + 1
	}
	return k
}

// TestLogLikelihoodReference checks the CTC forward probability against
// TensorFlow's testBasic and warp-ctc's cases (testdata/reference).
func TestLogLikelihoodReference(t *testing.T) {
	data, err := os.ReadFile(testutil.Path(t, "reference", "ctc_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name         string
			Blank        int
			Labels       []int
			Probs        [][]float64
			Logits       json.RawMessage
			ExpectedLoss *float64 `json:"expected_loss"`
		}
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f.Cases {
		if c.Labels == nil || c.ExpectedLoss == nil {
			continue
		}
		rows := c.Probs
		if rows == nil {
			var logits [][]float64
			if err := json.Unmarshal(c.Logits, &logits); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			for _, l := range logits { // softmax
				m := slices.Max(l)
				var z float64
				r := make([]float64, len(l))
				for i, x := range l {
					r[i] = math.Exp(x - m)
					z += r[i]
				}
				for i := range r {
					r[i] /= z
				}
				rows = append(rows, r)
			}
		}
		moved := make([][]float64, len(rows))
		for ti, r := range rows {
			moved[ti] = make([]float64, len(r))
			for k, p := range r {
				moved[ti][remap(k, c.Blank)] = p
			}
		}
		labels := make([]int, len(c.Labels))
		for i, l := range c.Labels {
			labels[i] = remap(l, c.Blank)
		}
		got, err := LogLikelihood(probsToLogProbs(t, moved), labels)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(-got-*c.ExpectedLoss) > 1e-4 {
			t.Errorf("%s: loss %.6f, want %.6f", c.Name, -got, *c.ExpectedLoss)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d reference cases checked", n)
	}
}

// collapse maps a frame path to its CTC label sequence.
func collapse(path []int) []int {
	var out []int
	prev := 0
	for _, c := range path {
		if c != 0 && c != prev {
			out = append(out, c)
		}
		prev = c
	}
	return out
}

func key(labels []int) string {
	b := make([]byte, len(labels))
	for i, l := range labels {
		b[i] = byte('0' + l)
	}
	return string(b)
}

func randomLogProbs(rng *rand.Rand, T, V int, peak float64) LogProbs {
	data := make([]float32, T*V)
	for t := 0; t < T; t++ {
		var z float64
		row := make([]float64, V)
		top := rng.IntN(V)
		for c := range row {
			row[c] = rng.Float64() + 0.05
			if c == top {
				row[c] += peak
			}
			z += row[c]
		}
		for c := range row {
			data[t*V+c] = float32(math.Log(row[c] / z))
		}
	}
	return LogProbs{Data: data, Frames: T, Vocab: V}
}

// TestBruteForce enumerates every frame path of small random matrices: the
// forward algorithm must equal the summed path probabilities of each label
// sequence, and an unpruned wide beam must find the most probable one.
func TestBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	v := mustVocab(t, "a", "b", "c")
	const V = 4
	for trial := 0; trial < 40; trial++ {
		T := 1 + rng.IntN(6)
		lp := randomLogProbs(rng, T, V, 2*rng.Float64())
		sums := map[string]float64{}
		seqs := map[string][]int{}
		path := make([]int, T)
		var rec func(t int, logp float64)
		rec = func(t int, logp float64) {
			if t == T {
				l := collapse(path)
				k := key(l)
				if _, ok := sums[k]; !ok {
					sums[k] = math.Inf(-1)
					seqs[k] = l
				}
				sums[k] = logAdd(sums[k], logp)
				return
			}
			for c := 0; c < V; c++ {
				path[t] = c
				rec(t+1, logp+float64(lp.Row(t)[c]))
			}
		}
		rec(0, 0)
		bestKey, best := "", math.Inf(-1)
		for k, s := range sums {
			got, err := LogLikelihood(lp, seqs[k])
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-s) > 1e-5 {
				t.Fatalf("T=%d labels %v: forward %v, enumeration %v", T, seqs[k], got, s)
			}
			if s > best {
				bestKey, best = k, s
			}
		}
		res, err := Beam{Vocab: v, Width: MaxWidth, TokenMinLogProb: math.Inf(-1), BeamPruneLogProb: math.Inf(-1)}.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.LogProb-best) > 1e-5 {
			t.Fatalf("T=%d: beam found %q (ln p %v), best is %q (ln p %v)", T, res.Text, res.LogProb, bestKey, best)
		}
		// Without space in the vocabulary the text is the label sequence.
		ids, _ := v.Encode(res.Text)
		if got, _ := LogLikelihood(lp, ids); math.Abs(got-best) > 1e-5 {
			t.Fatalf("beam text %q has ln p %v, best %v", res.Text, got, best)
		}
	}
}

// TestBeamBeatsGreedy: a crafted case where the most probable text differs
// from the best path (greedy "ab", beam "a"), and random peaky cases where
// the beam's text is never less probable than greedy's.
func TestBeamBeatsGreedy(t *testing.T) {
	v := mustVocab(t, "a", "b")
	lp := probsToLogProbs(t, [][]float64{{0.35, 0.4, 0.25}, {0.3, 0.3, 0.4}})
	g, _ := Greedy{Vocab: v}.Decode(ctx, lp)
	b, _ := Beam{Vocab: v}.Decode(ctx, lp)
	if g.Text != "ab" || b.Text != "a" {
		t.Fatalf("greedy %q beam %q, want ab and a", g.Text, b.Text)
	}
	if b.LogProb <= math.Log(0.4*0.4)+1e-9 { // p("ab") = 0.4·0.4
		t.Fatalf("beam ln p %v", b.LogProb)
	}
	if want := math.Log(0.4*0.6 + 0.35*0.3); math.Abs(b.LogProb-want) > 1e-6 { // a_, aa, _a
		t.Fatalf("beam ln p %v, want %v", b.LogProb, want)
	}

	rng := rand.New(rand.NewPCG(8, 9))
	dv := text.DefaultVocabulary()
	words := []string{"a", "ab", "ba", "cab", "abc", "aa", "bb", "c"}
	for trial := 0; trial < 300; trial++ {
		var ws []string
		for i := 0; i < 1+rng.IntN(8); i++ {
			ws = append(ws, words[rng.IntN(len(words))])
		}
		lp := synthPosteriors(rng, dv, strings.Join(ws, " "))
		g, _ := Greedy{}.Decode(ctx, lp)
		b, err := Beam{Width: 8}.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		gi, _ := dv.Encode(g.Text)
		bi, _ := dv.Encode(b.Text)
		gl, _ := LogLikelihood(lp, gi)
		bl, _ := LogLikelihood(lp, bi)
		if bl < gl-1e-9 {
			t.Fatalf("trial %d: beam %q ln p %v < greedy %q ln p %v", trial, b.Text, bl, g.Text, gl)
		}
	}
}

// peakyLogProbs makes frames whose best class has probability > 0.5.
func peakyLogProbs(rng *rand.Rand, T, V int) LogProbs {
	data := make([]float32, T*V)
	for t := 0; t < T; t++ {
		top := rng.IntN(V)
		if rng.IntN(2) == 0 {
			top = 0
		}
		ptop := 0.55 + 0.44*rng.Float64()
		w := make([]float64, V)
		var z float64
		for c := range w {
			if c != top {
				w[c] = rng.Float64() + 1e-3
				z += w[c]
			}
		}
		for c := range w {
			p := ptop
			if c != top {
				p = (1 - ptop) * w[c] / z
			}
			data[t*V+c] = float32(math.Log(p))
		}
	}
	return LogProbs{Data: data, Frames: T, Vocab: V}
}

func TestWidthOneIsGreedy(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	v := text.DefaultVocabulary()
	for trial := 0; trial < 200; trial++ {
		lp := peakyLogProbs(rng, 1+rng.IntN(80), v.Size())
		g, err := Greedy{}.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Beam{Width: 1}.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		if g.Text != b.Text || len(g.Words) != len(b.Words) {
			t.Fatalf("trial %d: greedy %q, width-1 beam %q", trial, g.Text, b.Text)
		}
		for i := range g.Words {
			gw, bw := g.Words[i], b.Words[i]
			if gw.Start != bw.Start || gw.End != bw.End || math.Abs(gw.Confidence-bw.Confidence) > 1e-6 {
				t.Fatalf("trial %d word %d: greedy %+v beam %+v", trial, i, gw, bw)
			}
		}
	}
}

// TestLMFusion: acoustics slightly prefer "the kat sat"; a language model
// trained on text with "cat" changes the result to "the cat sat".
func TestLMFusion(t *testing.T) {
	v := text.DefaultVocabulary()
	id := func(r rune) int { i, _ := v.ID(r); return i }
	var rows [][]float64
	blankRow := oneHotish(v.Size(), 0, 0.95)
	for _, ch := range "the ?at sat" {
		var r []float64
		if ch != '?' {
			r = oneHotish(v.Size(), id(ch), 0.9)
		} else {
			r = oneHotish(v.Size(), id('k'), 0.5)
			r[id('c')] = 0.45
			rest := 0.05 / float64(v.Size()-2)
			for c := range r {
				if c != id('k') && c != id('c') {
					r[c] = rest
				}
			}
		}
		rows = append(rows, r, blankRow)
	}
	lp := probsToLogProbs(t, rows)
	est, _ := lm.NewEstimator(3)
	for _, s := range []string{"the cat sat", "the cat ran", "a cat sat on the mat", "the dog sat", "the cat"} {
		est.AddSentence(strings.Fields(s))
	}
	fb := lm.FallbackDiscounts
	model, _, err := est.Build(lm.BuildOptions{DiscountFallback: &fb})
	if err != nil {
		t.Fatal(err)
	}
	noLM, err := Beam{}.Decode(ctx, lp)
	if err != nil {
		t.Fatal(err)
	}
	withLM, err := Beam{LM: model, LMWeight: 0.5, WordBonus: 1}.Decode(ctx, lp)
	if err != nil {
		t.Fatal(err)
	}
	if noLM.Text != "the kat sat" || withLM.Text != "the cat sat" {
		t.Fatalf("without LM %q, with LM %q", noLM.Text, withLM.Text)
	}
	if noLM.LMLogProb != 0 {
		t.Errorf("LMLogProb without an LM: %v", noLM.LMLogProb)
	}
	wantLM := model.SentenceLogProb([]string{"the", "cat", "sat"})
	if math.Abs(withLM.LMLogProb-wantLM) > 1e-9 {
		t.Errorf("LMLogProb %v, want %v", withLM.LMLogProb, wantLM)
	}
	if want := withLM.LogProb + 0.5*withLM.LMLogProb + 3; math.Abs(withLM.Score-want) > 1e-9 {
		t.Errorf("Score %v, want %v", withLM.Score, want)
	}
	// The word times do not depend on the LM.
	if withLM.Words[1].Start != noLM.Words[1].Start || withLM.Words[1].End != noLM.Words[1].End {
		t.Errorf("times changed: %+v vs %+v", withLM.Words[1], noLM.Words[1])
	}
}

// TestUnknownWordPenalty decodes "the cat" where the space between the
// words is slightly less likely than no space, with a language model that
// gives an unknown word more probability than "the" and "cat" together:
// without the penalty the search glues them into one unknown word, with it
// the words stay apart; and a word the model does not know is still
// decoded when nothing better fits.
func TestUnknownWordPenalty(t *testing.T) {
	v := text.DefaultVocabulary()
	id := func(r rune) int { i, _ := v.ID(r); return i }
	blankRow := oneHotish(v.Size(), 0, 0.95)
	rowsOf := func(s string) [][]float64 {
		var rows [][]float64
		for _, ch := range s {
			var r []float64
			if ch != '?' {
				r = oneHotish(v.Size(), id(ch), 0.9)
			} else { // space 0.45, blank 0.5
				r = oneHotish(v.Size(), 0, 0.5)
				r[id(' ')] = 0.45
				rest := 0.05 / float64(v.Size()-2)
				for c := range r {
					if c != 0 && c != id(' ') {
						r[c] = rest
					}
				}
			}
			rows = append(rows, r, blankRow)
		}
		return rows
	}
	const arpa = "\\data\\\nngram 1=5\n\n\\1-grams:\n-1\t<s>\n-0.3\t</s>\n-0.5\t<unk>\n-1.5\tthe\n-1.5\tcat\n\n\\end\\\n"
	model, err := lm.ReadARPA(strings.NewReader(arpa))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		audio            string
		penalty, perChar float64
		want             string
	}{
		{"the?cat", -1e-9, -1e-9, "thecat"},
		{"the?cat", 0, 0, "the cat"},
		{"the?cat", -3, -1e-9, "the cat"},
		{"the?cat", -1e-9, -3, "the cat"},
		{"the dog", 0, 0, "the dog"},
		{"the dog", -1, -0.5, "the dog"},
		{"cathe", 0, 0, "cathe"}, // a prefix of no word: dead at "cath"
	} {
		lp := probsToLogProbs(t, rowsOf(c.audio))
		res, err := Beam{LM: model, UnknownWordPenalty: c.penalty, UnknownCharPenalty: c.perChar}.Decode(ctx, lp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != c.want {
			t.Errorf("%q with penalty %v: %q, want %q", c.audio, c.penalty, res.Text, c.want)
		}
		pen, perChar := c.penalty, c.perChar
		if pen == 0 {
			pen = DefaultUnknownWordPenalty
		}
		if perChar == 0 {
			perChar = DefaultUnknownCharPenalty
		}
		// An unknown word costs pen when it dies (or ends, if it never
		// dies) and perChar for each character after it died.
		unknown := 0.0
		for _, w := range strings.Fields(res.Text) {
			if model.Contains(w) {
				continue
			}
			alive := 0
			for alive < len(w) && model.HasPrefix([]byte(w[:alive+1])) {
				alive++
			}
			unknown += pen
			if alive < len(w) {
				unknown += perChar * float64(len(w)-alive-1)
			}
		}
		if want := res.LogProb + DefaultLMWeight*res.LMLogProb + unknown; math.Abs(res.Score-want) > 1e-9 {
			t.Errorf("%q: Score %v, want %v", c.audio, res.Score, want)
		}
	}
	for _, b := range []Beam{{LM: model, UnknownWordPenalty: 1}, {LM: model, UnknownCharPenalty: math.NaN()}} {
		if _, err := b.Decode(ctx, probsToLogProbs(t, rowsOf("the"))); err == nil {
			t.Errorf("%+v was accepted", b)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := LogProbs{Data: make([]float32, 2*29), Frames: 2, Vocab: 29}
	for i := range good.Data {
		good.Data[i] = float32(math.Log(1.0 / 29))
	}
	nan := LogProbs{Data: slices.Clone(good.Data), Frames: 2, Vocab: 29}
	nan.Data[31] = float32(math.NaN())
	pos := LogProbs{Data: slices.Clone(good.Data), Frames: 2, Vocab: 29}
	pos.Data[3] = 2
	tests := []struct {
		name string
		d    Decoder
		lp   LogProbs
		want string
	}{
		{"wrong vocabulary size", Greedy{}, LogProbs{Data: make([]float32, 10), Frames: 2, Vocab: 5}, "5 classes per frame, the vocabulary has 29"},
		{"wrong data length", Beam{}, LogProbs{Data: make([]float32, 10), Frames: 2, Vocab: 29}, "10 values for shape [2, 29]"},
		{"NaN", Beam{}, nan, "frame 1, class 2 is not a log-probability"},
		{"positive", Greedy{}, pos, "frame 0, class 3"},
		{"negative width", Beam{Width: -1}, good, "width -1"},
		{"width above the maximum", Beam{Width: MaxWidth + 1}, good, "width 1025 is above the maximum, 1024"},
		{"width 2^31-1", Beam{Width: math.MaxInt32}, good, "above the maximum"},
		{"positive token threshold", Beam{TokenMinLogProb: 1}, good, "TokenMinLogProb"},
		{"negative LM weight", Beam{LMWeight: -1}, good, "LMWeight"},
		{"NaN bonus", Beam{WordBonus: math.NaN()}, good, "WordBonus"},
		{"negative frame duration", Greedy{FrameDuration: -1}, good, "FrameDuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.d.Decode(ctx, tt.lp)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := LogLikelihood(nan, []int{2}); !errors.Is(err, ErrInput) {
		t.Errorf("LogLikelihood of NaN input: %v", err)
	}
	if _, err := LogLikelihood(good, []int{0}); !errors.Is(err, ErrInput) {
		t.Errorf("LogLikelihood of a blank label: %v", err)
	}
	if _, err := FromRows([][]float32{{0, 0}, {0}}); !errors.Is(err, ErrInput) {
		t.Errorf("ragged rows: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Beam{}).Decode(cctx, good); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// Empty input decodes to nothing.
	for _, d := range []Decoder{Greedy{}, Beam{}} {
		res, err := d.Decode(ctx, LogProbs{Vocab: 29})
		if err != nil || res.Text != "" || len(res.Words) != 0 {
			t.Errorf("%T on no frames: %+v %v", d, res, err)
		}
	}
}

func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for trial := 0; trial < 2000; trial++ {
		n := rng.IntN(60)
		c := make([]cand, n)
		for i := range c {
			c[i] = cand{node: int32(i), key: float64(rng.IntN(10))} // many ties
		}
		want := slices.Clone(c)
		slices.SortFunc(want, func(a, b cand) int {
			if a.key != b.key {
				if a.key > b.key {
					return -1
				}
				return 1
			}
			return int(a.node - b.node)
		})
		k := 1 + rng.IntN(12)
		got := topK(c, k)
		want = want[:min(k, n)]
		gotNodes := make([]int32, len(got))
		for i, x := range got {
			gotNodes[i] = x.node
		}
		wantNodes := make([]int32, len(want))
		for i, x := range want {
			wantNodes[i] = x.node
		}
		slices.Sort(gotNodes)
		slices.Sort(wantNodes)
		if !slices.Equal(gotNodes, wantNodes) {
			t.Fatalf("n=%d k=%d: got %v want %v", n, k, gotNodes, wantNodes)
		}
	}
}

// TestConcurrentDecode decodes in parallel (run with -race): decoders and
// models are shared, search memory is per call.
func TestConcurrentDecode(t *testing.T) {
	v := text.DefaultVocabulary()
	est, _ := lm.NewEstimator(2)
	est.AddSentence([]string{"the", "cat"})
	fb := lm.FallbackDiscounts
	model, _, err := est.Build(lm.BuildOptions{DiscountFallback: &fb})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(20, 21))
	var inputs []LogProbs
	var want []string
	decoders := []Decoder{Greedy{}, Beam{}, Beam{Width: 4, LM: model, WordBonus: 1}}
	for i := 0; i < 12; i++ {
		lp := synthPosteriors(rng, v, "the cat sat on the mat")
		inputs = append(inputs, lp)
		for _, d := range decoders {
			r, err := d.Decode(ctx, lp)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, r.Text)
		}
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i, lp := range inputs {
				for j, d := range decoders {
					r, err := d.Decode(ctx, lp)
					if err == nil && r.Text != want[i*len(decoders)+j] {
						err = errors.New("different text: " + r.Text)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
