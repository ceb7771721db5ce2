package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHashSplit(t *testing.T) {
	counts := map[Split]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("LJ%03d-%04d", i/1000, i%1000)
		s := HashSplit(id, 7, 0.1, 0.2)
		if s != HashSplit(id, 7, 0.1, 0.2) {
			t.Fatal("not deterministic")
		}
		counts[s]++
	}
	for s, want := range map[Split]float64{Val: 0.1, Test: 0.2, Train: 0.7} {
		got := float64(counts[s]) / n
		if math.Abs(got-want) > 0.015 {
			t.Errorf("%s fraction %.3f, want about %.2f", s, got, want)
		}
	}
	// A different seed moves ids; zero fractions put everything in train.
	moved := 0
	for i := 0; i < 1000; i++ {
		id := fmt.Sprint(i)
		if HashSplit(id, 1, 0.5, 0) != HashSplit(id, 2, 0.5, 0) {
			moved++
		}
		if HashSplit(id, 1, 0, 0) != Train {
			t.Fatal("fractions 0 must give train")
		}
	}
	if moved < 300 {
		t.Errorf("changing the seed moved only %d of 1000 ids", moved)
	}
	// Golden values: the split must never change between versions.
	if got := HashSplit("LJ001-0001", 0, 0.01, 0.04); got != Train {
		t.Errorf("LJ001-0001 -> %s", got)
	}
}

func TestSplitLists(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	val := write("val.txt", "# comment\nb|text of b\n\nc\tx\n")
	test := write("test.txt", "\ufeffd|d\nc|again\nzz\n")
	utts := []Utterance{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}
	fv, ft := 0.5, 0.5
	kept, probs, notes, method, err := assignSplit(utts, SplitConfig{Val: &fv, Test: &ft, Lists: SplitLists{Val: val, Test: test}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Split{}
	for _, u := range kept {
		got[u.ID] = u.Split
	}
	want := map[string]Split{"a": Train, "b": Val, "d": Test, "e": Train}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("split %v, want %v", got, want)
	}
	if len(probs) != 1 || probs[0].ID != "c" || probs[0].Kind != ProblemListedTwice || probs[0].Line != 2 {
		t.Errorf("problems %+v", probs)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "zz") {
		t.Errorf("notes %q", notes)
	}
	if !strings.HasPrefix(method, "lists ") {
		t.Errorf("method %q", method)
	}

	// With a train list, unlisted utterances are left out with a note.
	train := write("train.txt", "a\n")
	kept, _, notes, _, err = assignSplit([]Utterance{{ID: "a"}, {ID: "b"}, {ID: "e"}}, SplitConfig{Lists: SplitLists{Train: train, Val: val}})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || len(notes) != 2 || !strings.Contains(notes[0], "1 utterances are in no split list") {
		t.Errorf("kept %+v notes %q", kept, notes)
	}
}

func TestSplitFileRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "split.tsv")
	utts := []Utterance{{ID: "b", Split: Val}, {ID: "a", Split: Train}, {ID: "c", Split: Test}}
	if err := writeSplitFile(p, "hash seed=1 val=0.1 test=0.1", utts); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "a\ttrain\nb\tval\nc\ttest\n") {
		t.Errorf("file not sorted by id:\n%s", b)
	}
	method, m, err := readSplitFile(p)
	if err != nil || method != "hash seed=1 val=0.1 test=0.1" || len(m) != 3 || m["b"] != Val {
		t.Errorf("read back %q %v %v", method, m, err)
	}
	if method, m, err := readSplitFile(p + ".missing"); method != "" || m != nil || err != nil {
		t.Errorf("missing file: %q %v %v", method, m, err)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o644)
	if _, _, err := readSplitFile(p); err == nil {
		t.Error("garbage split file accepted")
	}
}
