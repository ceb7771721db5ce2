package wer

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// refCase is one case of testdata/reference/wer_cases.json: ref and hyp are
// a string or a list of strings (a corpus).
type refCase struct {
	ID          string          `json:"id"`
	Ref         json.RawMessage `json:"ref"`
	Hyp         json.RawMessage `json:"hyp"`
	Expected    map[string]float64
	ExpectedCER *float64 `json:"expected_cer"`
	Recomputed  struct {
		H, S, D, I int
	} `json:"recomputed"`
}

func sentences(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatalf("ref/hyp %s: %v", raw, err)
	}
	return many
}

func loadCases(t *testing.T) (wer, cer []refCase) {
	data, err := os.ReadFile(testutil.Path(t, "reference", "wer_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		WER []refCase `json:"wer_cases"`
		CER []refCase `json:"cer_cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.WER) == 0 || len(f.CER) == 0 {
		t.Fatal("no cases in wer_cases.json")
	}
	return f.WER, f.CER
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// TestJiwerCases checks WER, MER, WIL, WIP and the counts against the values
// asserted in jiwer's test suite (corpus cases sum counts first).
func TestJiwerCases(t *testing.T) {
	werCases, cerCases := loadCases(t)
	for _, c := range werCases {
		t.Run(c.ID, func(t *testing.T) {
			refs, hyps := sentences(t, c.Ref), sentences(t, c.Hyp)
			var sum Counts
			for i := range refs {
				sum.Add(Words(refs[i], hyps[i]).Counts)
			}
			got := map[string]float64{"wer": sum.ErrorRate(), "mer": sum.MER(), "wil": sum.WIL(), "wip": sum.WIP()}
			for k, want := range c.Expected {
				if !near(got[k], want) {
					t.Errorf("%s = %v, want %v", k, got[k], want)
				}
			}
			r := c.Recomputed
			if sum != (Counts{r.H, r.S, r.D, r.I}) {
				t.Errorf("counts %+v, want H=%d S=%d D=%d I=%d", sum, r.H, r.S, r.D, r.I)
			}
		})
	}
	for _, c := range cerCases {
		t.Run(c.ID, func(t *testing.T) {
			refs, hyps := sentences(t, c.Ref), sentences(t, c.Hyp)
			var sum Counts
			for i := range refs {
				sum.Add(Chars(refs[i], hyps[i]).Counts)
			}
			if c.ExpectedCER == nil {
				t.Fatal("case without expected_cer")
			}
			if !near(sum.ErrorRate(), *c.ExpectedCER) {
				t.Errorf("cer = %v, want %v", sum.ErrorRate(), *c.ExpectedCER)
			}
			r := c.Recomputed
			if sum != (Counts{r.H, r.S, r.D, r.I}) {
				t.Errorf("counts %+v, want H=%d S=%d D=%d I=%d", sum, r.H, r.S, r.D, r.I)
			}
		})
	}
}

func TestAlignTies(t *testing.T) {
	tests := []struct {
		name     string
		ref, hyp string
		costs    Costs
		want     Counts
		pretty   [2]string
	}{
		{"unit costs keep the hit", "a b", "b c", UnitCosts, Counts{Hits: 1, Dels: 1, Ins: 1}, [2]string{"A b *", "* b C"}},
		{"sclite keeps two subs when del+ins costs more", "a b", "c d", SCLITECosts, Counts{Subs: 2}, [2]string{"A B", "C D"}},
		{"sclite del+ins", "a b", "b c", SCLITECosts, Counts{Hits: 1, Dels: 1, Ins: 1}, [2]string{"A b *", "* b C"}},
		{"empty both", "", "", UnitCosts, Counts{}, [2]string{"", ""}},
		{"all deleted", "x y", "", UnitCosts, Counts{Dels: 2}, [2]string{"X Y", "* *"}},
		{"padding", "the cat", "the category", UnitCosts, Counts{Hits: 1, Subs: 1}, [2]string{"the CAT", "the CATEGORY"}},
		{"long insertion", "yes", "oh yes indeed", UnitCosts, Counts{Hits: 1, Ins: 2}, [2]string{"** yes ******", "OH yes INDEED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Align(strings.Fields(tt.ref), strings.Fields(tt.hyp), tt.costs)
			if a.Counts != tt.want {
				t.Errorf("counts %+v, want %+v", a.Counts, tt.want)
			}
			r, h := a.Pretty()
			if r != strings.TrimRight(tt.pretty[0], " ") || h != tt.pretty[1] {
				t.Errorf("Pretty:\n%q\n%q\nwant\n%q\n%q", r, h, tt.pretty[0], tt.pretty[1])
			}
			// The edits reproduce both sequences.
			var rs, hs []string
			for _, e := range a.Edits {
				if e.Op != Ins {
					rs = append(rs, e.Ref)
				}
				if e.Op != Del {
					hs = append(hs, e.Hyp)
				}
			}
			if strings.Join(rs, " ") != strings.Join(strings.Fields(tt.ref), " ") || strings.Join(hs, " ") != strings.Join(strings.Fields(tt.hyp), " ") {
				t.Errorf("edits %v do not reproduce ref and hyp", a.Edits)
			}
		})
	}
}

// bruteDistance is the unit-cost edit distance by plain recursion with
// memoisation, independent of Align's tie-breaking.
func bruteDistance(a, b []string) int {
	memo := map[[2]int]int{}
	var d func(i, j int) int
	d = func(i, j int) int {
		if i == len(a) {
			return len(b) - j
		}
		if j == len(b) {
			return len(a) - i
		}
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		v := 1 + min(d(i+1, j), d(i, j+1))
		if a[i] == b[j] {
			v = min(v, d(i+1, j+1))
		} else {
			v = min(v, 1+d(i+1, j+1))
		}
		memo[k] = v
		return v
	}
	return d(0, 0)
}

func randomPair(rng *rand.Rand, words []string, maxLen int) (ref, hyp []string) {
	ref = make([]string, rng.IntN(maxLen+1))
	for i := range ref {
		ref[i] = words[rng.IntN(len(words))]
	}
	// The hypothesis is an edited copy, so that pairs are similar as in ASR.
	for _, w := range ref {
		switch rng.IntN(6) {
		case 0: // delete
		case 1:
			hyp = append(hyp, words[rng.IntN(len(words))])
		case 2:
			hyp = append(hyp, w, words[rng.IntN(len(words))])
		default:
			hyp = append(hyp, w)
		}
	}
	if rng.IntN(4) == 0 {
		hyp = append([]string{words[rng.IntN(len(words))]}, hyp...)
	}
	return ref, hyp
}

func TestAlignMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d"}
	for k := 0; k < 2000; k++ {
		ref, hyp := randomPair(rng, words, 8)
		a := Align(ref, hyp, UnitCosts)
		if got, want := a.Errors(), bruteDistance(ref, hyp); got != want {
			t.Fatalf("ref %v hyp %v: %d errors, edit distance %d", ref, hyp, got, want)
		}
		if a.RefLen() != len(ref) || a.HypLen() != len(hyp) {
			t.Fatalf("ref %v hyp %v: counts %+v", ref, hyp, a.Counts)
		}
	}
}

var scoresRE = regexp.MustCompile(`^Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)$`)

// TestSCLITE scores generated pairs with NIST sclite and compares the
// per-utterance and total hit, substitution, deletion and insertion counts
// with Align under SCLITECosts.
func TestSCLITE(t *testing.T) {
	sctk := testutil.RequireTool(t, "sctk")
	rng := rand.New(rand.NewPCG(7, 11))
	words := []string{"a", "b", "c", "d", "e"}
	const n = 400
	var refTrn, hypTrn bytes.Buffer
	want := make([]Counts, n)
	var total Counts
	for k := 0; k < n; k++ {
		ref, hyp := randomPair(rng, words, 10)
		if k%3 == 0 { // unrelated pairs create many equal-cost alignments
			hyp = make([]string, rng.IntN(8))
			for i := range hyp {
				hyp[i] = words[rng.IntN(len(words))]
			}
		}
		fmt.Fprintf(&refTrn, "%s (spk_%04d)\n", strings.Join(ref, " "), k)
		fmt.Fprintf(&hypTrn, "%s (spk_%04d)\n", strings.Join(hyp, " "), k)
		want[k] = Align(ref, hyp, SCLITECosts).Counts
		total.Add(want[k])
	}
	dir := t.TempDir()
	refPath, hypPath := filepath.Join(dir, "ref.trn"), filepath.Join(dir, "hyp.trn")
	if err := os.WriteFile(refPath, refTrn.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hypPath, hypTrn.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sctk, "sclite", "-r", refPath, "trn", "-h", hypPath, "trn", "-i", "spu_id", "-o", "rsum", "pra", "stdout").CombinedOutput()
	if err != nil {
		t.Fatalf("sclite: %v\n%s", err, out)
	}
	var got []Counts
	var sumLine string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := scoresRE.FindStringSubmatch(line); m != nil {
			c := make([]int, 4)
			for i := range c {
				c[i], _ = strconv.Atoi(m[i+1])
			}
			got = append(got, Counts{Hits: c[0], Subs: c[1], Dels: c[2], Ins: c[3]})
		}
		if strings.HasPrefix(line, "| Sum ") {
			sumLine = line
		}
	}
	if len(got) != n {
		t.Fatalf("parsed %d sclite scores, want %d\n%s", len(got), n, out)
	}
	bad := 0
	for k := range got {
		if got[k] != want[k] {
			bad++
			if bad <= 5 {
				t.Errorf("utterance %d: sclite %+v, Align %+v", k, got[k], want[k])
			}
		}
	}
	// | Sum  |  400  1234 |  C  S  D  I  Err  S.Err |
	f := strings.FieldsFunc(sumLine, func(r rune) bool { return r == '|' || r == ' ' })
	if len(f) < 9 {
		t.Fatalf("cannot parse sclite Sum line %q", sumLine)
	}
	nums := make([]int, 7)
	for i := range nums {
		nums[i], _ = strconv.Atoi(f[i+2])
	}
	if nums[0] != total.RefLen() || (Counts{nums[1], nums[2], nums[3], nums[4]}) != total || nums[5] != total.Errors() {
		t.Errorf("sclite totals %q, Align totals %+v (N=%d)", sumLine, total, total.RefLen())
	}
}

func TestCorpus(t *testing.T) {
	var c Corpus
	c.Add("the cat sat", "the cat sat")
	w := c.Add("on the mat", "on a mat")
	c.Add("", "")
	if c.Utterances != 3 || c.WithErrors != 1 {
		t.Fatalf("Utterances %d WithErrors %d", c.Utterances, c.WithErrors)
	}
	if c.Words != (Counts{Hits: 5, Subs: 1}) || !near(c.WER(), 1.0/6) {
		t.Fatalf("words %+v WER %v", c.Words, c.WER())
	}
	// characters: "on the mat" vs "on a mat": t,h,e -> a: 1 sub + 2 del
	if c.Chars.Errors() != 3 || c.Chars.RefLen() != 11+10 {
		t.Fatalf("chars %+v", c.Chars)
	}
	if w.Edits[1] != (Edit{Sub, "the", "a"}) {
		t.Fatalf("edits %v", w.Edits)
	}
}

func TestEdgeRates(t *testing.T) {
	var zero Counts
	if zero.ErrorRate() != 0 || zero.MER() != 0 || zero.WIP() != 1 || zero.WIL() != 0 {
		t.Fatal("empty-vs-empty rates")
	}
	ins := Counts{Ins: 3}
	if ins.ErrorRate() != 3 || ins.MER() != 1 || ins.WIP() != 0 {
		t.Fatal("empty reference rates")
	}
	if Sub.String() != "sub" || Ins.String() != "ins" || Hit.String() != "hit" || Del.String() != "del" {
		t.Fatal("Op strings")
	}
}

func BenchmarkWords(b *testing.B) {
	ref := strings.Repeat("the quick brown fox jumps over the lazy dog ", 5)
	hyp := strings.Repeat("the quick brown fax jumped over a lazy dog dog ", 5)
	for b.Loop() {
		Words(ref, hyp)
	}
}
