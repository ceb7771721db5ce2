package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The split holds out whole speakers: no speaker has utterances in two
// sets, and no held-out transcript is in the training text.
func TestSplitHoldsOutWholeSpeakers(t *testing.T) {
	dir := t.TempDir()
	var rows []string
	add := func(corpus, spk string, n int) {
		for i := range n {
			r, _ := json.Marshal(row{Audio: fmt.Sprintf("%s/%s/%d.mp3", corpus, spk, i), Speaker: spk, Text: fmt.Sprintf("sentence %d of %s", i, spk)})
			rows = append(rows, string(r))
		}
	}
	for s := range 40 {
		add("many", fmt.Sprintf("many-%02d", s), 3) // split by the seeded hash
	}
	add("solo", "solo-a", 20) // one voice with many clips: training only
	for s := range 3 {
		add("few", fmt.Sprintf("few-%d", s), 2) // few voices with few clips: test
	}
	manifest := filepath.Join(dir, "manifest.jsonl")
	os.WriteFile(manifest, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	out, text, evals := filepath.Join(dir, "lists"), filepath.Join(dir, "train.txt"), filepath.Join(dir, "eval")
	if err := run(manifest, out, text, evals, 1, 0.1, 0.06, 0.3, 0.2, 3); err != nil {
		t.Fatal(err)
	}
	setOf := map[string]string{} // speaker -> set
	count := map[string]int{}
	for _, set := range []string{"val", "test"} {
		b, err := os.ReadFile(filepath.Join(out, set+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.HasPrefix(id, "#") {
				continue
			}
			spk := strings.Split(id, "/")[1]
			if other, ok := setOf[spk]; ok && other != set {
				t.Errorf("speaker %s is in %s and %s", spk, other, set)
			}
			setOf[spk] = set
			count[set]++
		}
	}
	if _, ok := setOf["solo-a"]; ok {
		t.Error("the only speaker of a corpus was held out")
	}
	for s := range 3 {
		if set := setOf[fmt.Sprintf("few-%d", s)]; set != "test" {
			t.Errorf("few-%d is in %q, want test", s, set)
		}
	}
	if count["val"] == 0 || count["test"] == 0 {
		t.Errorf("held out: %v, want both sets", count)
	}
	train, _ := os.ReadFile(text)
	for spk := range setOf {
		if strings.Contains(string(train), "of "+spk+"\n") {
			t.Errorf("held-out speaker %s's transcript is in the training text", spk)
		}
	}
	if !strings.Contains(string(train), "of solo-a\n") {
		t.Error("the training text lacks a training speaker")
	}
	for _, f := range []string{"val.jsonl", "test.jsonl", "test-few.jsonl", "test-many.jsonl"} {
		if _, err := os.Stat(filepath.Join(evals, f)); err != nil {
			t.Errorf("held-out manifest: %v", err)
		}
	}
}
