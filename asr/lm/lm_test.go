package lm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

func estimate(t testing.TB, order int, sentences []string, opts BuildOptions) (*Model, BuildInfo) {
	t.Helper()
	e, err := NewEstimator(order)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sentences {
		if err := e.AddSentence(strings.Fields(s)); err != nil {
			t.Fatal(err)
		}
	}
	m, info, err := e.Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, info
}

func readLines(t testing.TB, elem ...string) []string {
	t.Helper()
	data, err := os.ReadFile(testutil.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// stateAfter returns the state after the history words; a history starting
// with <s> starts from BeginState.
func stateAfter(m *Model, history []string) State {
	var s State
	if len(history) > 0 && history[0] == BOS {
		s, history = m.BeginState(), history[1:]
	}
	for _, w := range history {
		_, s = m.Score(s, w)
	}
	return s
}

func prob(m *Model, history []string, w string) float64 {
	lp, _ := m.Score(stateAfter(m, history), w)
	return math.Exp(lp)
}

// TestKneserNeyByHand checks a bigram model of "a b" and "a" against
// probabilities worked out by hand from Chen & Goodman's formulas with the
// fallback discounts D = (0.5, 1, 1.5) (the counts are too few for
// estimated ones).
//
// Bigram counts: <s> a 2, a b 1, a </s> 1, b </s> 1. Unigram adjusted
// (continuation) counts: a 1 (after <s>), b 1 (after a), </s> 2 (after a
// and b), <s> 0, <unk> 0; Σ = 4, γ(ε) = (0.5·2 + 1·1)/4 = 0.5, and the
// uniform distribution is over a, b, </s>, <unk>: 1/4.
func TestKneserNeyByHand(t *testing.T) {
	fb := FallbackDiscounts
	m, info := estimate(t, 2, []string{"a b", "a"}, BuildOptions{DiscountFallback: &fb})
	if !info.Fallback[0] || !info.Fallback[1] {
		t.Fatalf("expected the fallback discounts for both orders: %+v", info)
	}
	tests := []struct {
		history []string
		word    string
		want    float64
	}{
		{nil, "a", (1-0.5)/4 + 0.5*0.25},           // 0.25
		{nil, "b", (1-0.5)/4 + 0.5*0.25},           // 0.25
		{nil, EOS, (2-1.0)/4 + 0.5*0.25},           // 0.375
		{nil, Unk, 0.5 * 0.25},                     // 0.125
		{nil, "never-seen", 0.5 * 0.25},            // scored as <unk>
		{[]string{BOS}, "a", (2-1.0)/2 + 0.5*0.25}, // γ(<s>) = 1·1/2
		{[]string{BOS}, "b", 0.5 * 0.25},           // backoff γ(<s>) · p(b)
		{[]string{"a"}, "b", (1-0.5)/2 + 0.5*0.25}, // γ(a) = 0.5·2/2
		{[]string{"a"}, EOS, (1-0.5)/2 + 0.5*0.375},
		{[]string{"b"}, EOS, (1-0.5)/1 + 0.5*0.375}, // γ(b) = 0.5·1/1
		{[]string{"b"}, "a", 0.5 * 0.25},
	}
	for _, tt := range tests {
		if got := prob(m, tt.history, tt.word); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("p(%s | %v) = %.7f, want %.7f", tt.word, tt.history, got, tt.want)
		}
	}
	if lp, _ := m.Score(0, BOS); math.Abs(lp+99*Ln10) > 1e-9 {
		t.Errorf("p(<s>) = %v, want log10 -99", lp)
	}
	// Sentence "a b": p(a|<s>) p(b|a) p(</s>|b).
	want := math.Log(0.625 * 0.375 * 0.6875)
	if got := m.SentenceLogProb([]string{"a", "b"}); math.Abs(got-want) > 1e-6 {
		t.Errorf("SentenceLogProb = %v, want %v", got, want)
	}

	// The trigram model of the same text. Trigram counts: <s> a b 1,
	// <s> a </s> 1, a b </s> 1. Its bigrams keep raw counts when they start
	// with <s> (<s> a 2) and take continuation counts otherwise (a b 1,
	// a </s> 1, b </s> 1): the same values as above, so the bigram and
	// unigram probabilities are those of the bigram model. Context <s> a:
	// Σ = 2, γ = 0.5·2/2.
	m3, _ := estimate(t, 3, []string{"a b", "a"}, BuildOptions{DiscountFallback: &fb})
	tests3 := []struct {
		history []string
		word    string
		want    float64
	}{
		{[]string{BOS, "a"}, "b", (1-0.5)/2 + 0.5*0.375},
		{[]string{BOS, "a"}, EOS, (1-0.5)/2 + 0.5*0.4375},
		{[]string{BOS, "a"}, "a", 0.5 * 0.5 * 0.25}, // γ(<s> a) γ(a) p(a)
		{[]string{"a", "b"}, EOS, (1-0.5)/1 + 0.5*0.6875},
		{[]string{BOS}, "a", 0.625},
		{[]string{"a"}, "b", 0.375},
	}
	for _, tt := range tests3 {
		if got := prob(m3, tt.history, tt.word); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("trigram p(%s | %v) = %.7f, want %.7f", tt.word, tt.history, got, tt.want)
		}
	}
}

// TestDiscountFormula checks Chen & Goodman's equation (26) on count-of-
// counts and discounts printed by IRSTLM 6.00.05 (Debian irstlm, `tlm -lm=ikn
// -ps=no`) for the trigrams of 4000 LJSpeech sentences, and on the 1-grams
// of testdata/lm/ljspeech_400.txt.
func TestDiscountFormula(t *testing.T) {
	tests := []struct {
		t    [5]int64
		want Discounts
	}{
		{[5]int64{0, 55391, 2754, 683, 321}, Discounts{0.909555, 1.32328, 1.29009}},
		{[5]int64{0, 4275, 1438, 727, 441}, Discounts{0.597818, 1.09329, 1.54945}},
		{[5]int64{0, 1527, 335, 118, 70}, Discounts{0.695039, 1.26554, 1.35076}},
	}
	for _, tt := range tests {
		d, err := chenGoodman(tt.t)
		if err != nil {
			t.Fatal(err)
		}
		for k := range d {
			if math.Abs(d[k]-tt.want[k]) > 1e-5 {
				t.Errorf("count-of-counts %v: D%d = %v, IRSTLM %v", tt.t[1:], k+1, d[k], tt.want[k])
			}
		}
	}
	for _, bad := range [][5]int64{{0, 0, 1, 1, 1}, {0, 5, 0, 1, 1}, {0, 5, 2, 0, 1}, {0, 1, 10, 1, 100}} {
		if _, err := chenGoodman(bad); err == nil {
			t.Errorf("count-of-counts %v gave discounts", bad[1:])
		}
	}
}

// TestIRSTLMUnigramStatistics compares the 1-gram adjusted count-of-counts
// and discounts of testdata/lm/ljspeech_400.txt with those IRSTLM prints
// for the same text (`add-start-end.sh | tlm -n=3 -lm=ikn -ps=no`): 1527,
// 335, 118, 70 and D = 0.695039, 1.26554, 1.35076. (IRSTLM's 2- and 3-gram
// statistics differ from ours by one n-gram, from its own sentence-start
// handling.)
func TestIRSTLMUnigramStatistics(t *testing.T) {
	_, info := estimate(t, 3, readLines(t, "lm", "ljspeech_400.txt"), BuildOptions{})
	if got, want := info.CountOfCounts[0], [4]int64{1527, 335, 118, 70}; got != want {
		t.Errorf("1-gram count-of-counts %v, IRSTLM %v", got, want)
	}
	want := Discounts{0.695039, 1.26554, 1.35076}
	for k := range want {
		if math.Abs(info.Discounts[0][k]-want[k]) > 1e-5 {
			t.Errorf("D%d = %v, IRSTLM %v", k+1, info.Discounts[0][k], want[k])
		}
	}
	if info.Sentences != 400 || info.Fallback[0] || info.Fallback[1] || info.Fallback[2] {
		t.Errorf("info %+v", info)
	}
}

// checkNormalised checks that p(·|h) sums to 1 over the vocabulary (all
// words but <s>) for every context h of the model and for random histories.
func checkNormalised(t *testing.T, m *Model, rng *rand.Rand, randomHistories int) {
	t.Helper()
	var vocab []string
	for _, w := range m.Words() {
		if w != BOS {
			vocab = append(vocab, w)
		}
	}
	sum := func(s State) float64 {
		var total float64
		for _, w := range vocab {
			lp, _ := m.Score(s, w)
			total += math.Exp(lp)
		}
		return total
	}
	checked := 0
	for e := range m.nodes {
		if !m.nodes[e].hasExt {
			continue
		}
		h := m.ngramWords(int32(e))
		if got := sum(stateAfter(m, h)); math.Abs(got-1) > 1e-5 {
			t.Errorf("Σ p(w | %v) = %.8f", h, got)
		}
		checked++
	}
	if got := sum(0); math.Abs(got-1) > 1e-5 {
		t.Errorf("Σ p(w) = %.8f", got)
	}
	for i := 0; i < randomHistories; i++ {
		h := make([]string, rng.IntN(m.Order()+1))
		for j := range h {
			h[j] = vocab[rng.IntN(len(vocab))]
		}
		if got := sum(stateAfter(m, h)); math.Abs(got-1) > 1e-5 {
			t.Errorf("Σ p(w | %v) = %.8f", h, got)
		}
	}
	if checked == 0 && m.Order() > 1 {
		t.Fatal("no contexts checked")
	}
}

func TestProbabilitiesSumToOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fb := FallbackDiscounts
	t.Run("ljspeech order 3", func(t *testing.T) {
		lines := readLines(t, "lm", "ljspeech_400.txt")
		m, _ := estimate(t, 3, lines[:120], BuildOptions{DiscountFallback: &fb})
		checkNormalised(t, m, rng, 20)
	})
	for _, order := range []int{1, 2, 4, 5} {
		t.Run(fmt.Sprintf("random order %d", order), func(t *testing.T) {
			words := []string{"a", "b", "c", "d", "e", "f"}
			var sents []string
			for i := 0; i < 60; i++ {
				s := make([]string, rng.IntN(7))
				for j := range s {
					s[j] = words[rng.IntN(min(len(words), 2+j))] // skewed counts
				}
				sents = append(sents, strings.Join(s, " "))
			}
			m, _ := estimate(t, order, sents, BuildOptions{DiscountFallback: &fb})
			checkNormalised(t, m, rng, 50)
		})
	}
}

func TestARPARoundTrip(t *testing.T) {
	m, _ := estimate(t, 3, readLines(t, "lm", "ljspeech_400.txt"), BuildOptions{})
	var buf bytes.Buffer
	if err := m.WriteARPA(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadARPA(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m2.Counts()) != fmt.Sprint(m.Counts()) || m2.Order() != 3 {
		t.Fatalf("counts %v vs %v", m2.Counts(), m.Counts())
	}
	var buf2 bytes.Buffer
	if err := m2.WriteARPA(&buf2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("write(read(write(m))) differs from write(m)")
	}
	for _, s := range readLines(t, "lm", "ljspeech_heldout.txt") {
		w := strings.Fields(s)
		if a, b := m.SentenceLogProb(w), m2.SentenceLogProb(w); math.Abs(a-b) > 1e-4 {
			t.Errorf("%q: %v before, %v after the round trip", s, a, b)
		}
	}
}

func TestReadARPAErrors(t *testing.T) {
	const good = "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-0.5\ta\t-0.3\n-0.2\t</s>\n\n\\2-grams:\n-0.1\t<s> a\n\n\\end\\\n"
	if _, err := ReadARPA(strings.NewReader(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", `no \data\ line`},
		{"no counts", "\\data\\\n\\1-grams:\n", `line 2: no "ngram N=count" lines`},
		{"bad count line", "\\data\\\nngram 1=x\n", `line 2: want "ngram N=count"`},
		{"orders out of sequence", "\\data\\\nngram 2=3\n", "line 2: ngram 2 declared after 0 orders"},
		{"count mismatch", strings.Replace(good, "ngram 1=3", "ngram 1=4", 1), "line 10: the header declares 4 1-grams, the section has 3"},
		{"wrong section", strings.Replace(good, "\\2-grams:", "\\3-grams:", 1), `line 10: want "\\2-grams:"`},
		{"too few fields", strings.Replace(good, "-0.1\t<s> a", "-0.1\t<s>", 1), "line 11: a 2-gram line needs"},
		{"bad probability", strings.Replace(good, "-0.5\ta", "x\ta", 1), `line 7: probability "x": not a number`},
		{"positive probability", strings.Replace(good, "-0.5\ta", "0.5\ta", 1), "line 7: log10 probability 0.5 is positive"},
		{"bad backoff", strings.Replace(good, "a\t-0.3", "a\tnan", 1), `line 7: backoff "nan" is not a finite number`},
		{"unknown word", strings.Replace(good, "<s> a", "<s> b", 1), `line 11: word "b" is not among the 1-grams`},
		{"missing context", strings.Replace(strings.Replace(good, "ngram 2=1", "ngram 2=1\nngram 3=1", 1), "\\end\\", "\\3-grams:\n-0.1\ta a a\n\n\\end\\", 1), `line 15: 3-gram "a a a" has no 2-gram "a a"`},
		{"duplicate", strings.Replace(good, "-0.2\t</s>", "-0.2\ta", 1), `line 8: duplicate 1-gram "a"`},
		{"backoff on top order", strings.Replace(good, "-0.1\t<s> a", "-0.1\t<s> a\t-0.2", 1), "line 11: a highest-order (2-gram) line has a backoff"},
		{"truncated", strings.TrimSuffix(good, "\\end\\\n"), "file ends inside the \\2-grams: section"},
		{"garbage at end", strings.Replace(good, "\\end\\", "\\foo\\", 1), `want \end\, got "\\foo\\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadARPA(strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v, want ErrFormat containing %q", err, tt.want)
			}
		})
	}
}

func TestEstimatorErrors(t *testing.T) {
	if _, err := NewEstimator(0); err == nil {
		t.Error("order 0 accepted")
	}
	e, _ := NewEstimator(3)
	for _, bad := range [][]string{{"a", BOS}, {EOS}, {""}, {"a b"}} {
		if err := e.AddSentence(bad); err == nil {
			t.Errorf("AddSentence(%q) accepted", bad)
		}
	}
	if _, _, err := e.Build(BuildOptions{}); err == nil {
		t.Error("Build without sentences succeeded")
	}
	if err := e.ReadText(context.Background(), strings.NewReader("a b\n\nc <s> d\n")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("ReadText error %v, want one naming line 3", err)
	}
	e, _ = NewEstimator(2)
	if err := e.AddSentence([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Build(BuildOptions{}); !errors.Is(err, ErrDiscounts) {
		t.Errorf("tiny corpus: error %v, want ErrDiscounts", err)
	}
}

func TestUnknownWords(t *testing.T) {
	const noUnk = "\\data\\\nngram 1=2\n\n\\1-grams:\n-0.3\ta\n-0.3\t</s>\n\n\\end\\\n"
	m, err := ReadARPA(strings.NewReader(noUnk))
	if err != nil {
		t.Fatal(err)
	}
	if lp, s := m.Score(0, "zzz"); lp != NoUnkLog10Prob*Ln10 || s != 0 {
		t.Errorf("OOV without <unk>: %v %v", lp, s)
	}
	if m.BeginState() != 0 {
		t.Error("BeginState without <s> is not the empty context")
	}
}

// TestSphinxLMEval loads our ARPA output in CMU Sphinx's sphinx_lm_eval and
// compares its per-word log probabilities (integers in base 1.0001) with
// Model.Score on held-out sentences.
func TestSphinxLMEval(t *testing.T) {
	tool := testutil.RequireTool(t, "sphinx_lm_eval")
	m, _ := estimate(t, 3, readLines(t, "lm", "ljspeech_400.txt"), BuildOptions{})
	dir := t.TempDir()
	arpa := filepath.Join(dir, "lm.arpa")
	f, err := os.Create(arpa)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WriteARPA(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Held-out sentences, words outside the vocabulary removed (Sphinx
	// skips them instead of scoring <unk>).
	var lsn bytes.Buffer
	n := 0
	for _, s := range readLines(t, "lm", "ljspeech_heldout.txt") {
		var kept []string
		for _, w := range strings.Fields(s) {
			if m.Contains(w) {
				kept = append(kept, w)
			}
		}
		fmt.Fprintf(&lsn, "<s> %s </s>\n", strings.Join(kept, " "))
		n += len(kept) + 1
	}
	lsnPath := filepath.Join(dir, "text.lsn")
	if err := os.WriteFile(lsnPath, lsn.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-lm", arpa, "-lsn", lsnPath, "-verbose", "yes").CombinedOutput()
	if err != nil {
		t.Fatalf("sphinx_lm_eval: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`^log P\((\S+)\|(.*)\) = (-?\d+)$`)
	lnBase := math.Log(1.0001)
	compared := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		g := re.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if g == nil {
			continue
		}
		v, _ := strconv.Atoi(g[3])
		sphinx := float64(v) * lnBase
		ours, _ := m.Score(stateAfter(m, strings.Fields(g[2])), g[1])
		if math.Abs(ours-sphinx) > 1e-3 {
			t.Errorf("ln p(%s | %s): ours %.5f, sphinx %.5f", g[1], g[2], ours, sphinx)
		}
		compared++
	}
	if compared != n {
		t.Fatalf("compared %d words, want %d\n%s", compared, n, out)
	}
}

func BenchmarkScore(b *testing.B) {
	m, _ := estimate(b, 3, readLines(b, "lm", "ljspeech_400.txt"), BuildOptions{})
	words := strings.Fields(strings.Join(readLines(b, "lm", "ljspeech_heldout.txt"), " "))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s := m.BeginState()
		for _, w := range words {
			_, s = m.Score(s, w)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(words)), "ns/word")
}

// FuzzReadARPA: malformed files give errors, never panics; files that load
// score every word finitely (a file's own weights may give values above 0: ARPA
// does not require normalised models) and write back readably.
func FuzzReadARPA(f *testing.F) {
	f.Add("\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-0.5\ta\t-0.3\n-0.2\t</s>\n\n\\2-grams:\n-0.1\t<s> a\n\n\\end\\\n")
	f.Add("\\data\\\nngram 1=2\n\n\\1-grams:\n-0.3\ta\n-0.3\t</s>\n\n\\end\\\n")
	f.Add("\\data\\\nngram 1=2\nngram 2=1\n\n\\1-grams:\n-1e300\ta\t1e300\n-0.3\t</s>\n\n\\2-grams:\n-0.1\ta </s>\n\n\\end\\\n") // beyond float32
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ReadARPA(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !strings.Contains(err.Error(), "lm: reading ARPA") {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		st := m.BeginState()
		for _, w := range append(m.Words(), "zzz", EOS) {
			lp, next := m.Score(st, w)
			if math.IsNaN(lp) || math.IsInf(lp, 0) {
				t.Fatalf("ln p(%s) = %v", w, lp)
			}
			st = next
		}
		var buf bytes.Buffer
		if err := m.WriteARPA(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadARPA(&buf); err != nil {
			t.Fatalf("re-reading the written model: %v", err)
		}
	})
}

func TestReadARPAGzip(t *testing.T) {
	m, _ := estimate(t, 2, readLines(t, "lm", "ljspeech_400.txt"), BuildOptions{})
	var plain, zipped bytes.Buffer
	if err := m.WriteARPA(&plain); err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(&zipped)
	zw.Write(plain.Bytes())
	zw.Close()
	m2, err := ReadARPA(&zipped)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	m2.WriteARPA(&again)
	if !bytes.Equal(plain.Bytes(), again.Bytes()) {
		t.Error("a gzipped ARPA file reads differently from the plain one")
	}
	// A gzip stream cut short is a format error, not a hang or a panic.
	var again2 bytes.Buffer
	zw = gzip.NewWriter(&again2)
	zw.Write(plain.Bytes())
	zw.Close()
	if _, err := ReadARPA(bytes.NewReader(again2.Bytes()[:again2.Len()/2])); err == nil {
		t.Error("a truncated gzip file was accepted")
	}
}

// TestHasPrefix checks prefix queries against a brute-force scan of the
// vocabulary, for both ways of making a model.
func TestHasPrefix(t *testing.T) {
	fb := FallbackDiscounts
	built, _ := estimate(t, 2, []string{"the cat sat", "then they ate", "a cathedral"}, BuildOptions{DiscountFallback: &fb})
	var buf bytes.Buffer
	if err := built.WriteARPA(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := ReadARPA(&buf)
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"the", "cat", "sat", "then", "they", "ate", "a", "cathedral"}
	probes := []string{"", "t", "th", "the", "then", "thens", "c", "cath", "cathedrals", "ca", "x", "s", "sat", "sa", "<", "<s", "<unk", "</s", "b", "ab", "athe"}
	for name, m := range map[string]*Model{"estimated": built, "arpa": read} {
		for _, p := range probes {
			want := false
			for _, w := range words {
				want = want || strings.HasPrefix(w, p)
			}
			if got := m.HasPrefix([]byte(p)); got != want {
				t.Errorf("%s: HasPrefix(%q) = %v, want %v", name, p, got, want)
			}
		}
	}
}
