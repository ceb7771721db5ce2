// Command splitreal writes the speaker-disjoint validation and test lists of
// the real-speech corpus that recipes/bundled trains on (a JSONL manifest
// whose rows carry "audio" and "speaker"), as datasets.split.lists files:
//
//	go run ./recipes/bundled/splitreal -manifest data/real-speech/manifest.jsonl -out recipes/bundled/real
//
// With -text FILE it also writes the transcripts of the training
// utterances, one per line (for the language model: no validation or test
// speaker's transcript is in it). With -manifests DIR it writes the held-out
// sets as JSONL manifests with absolute audio paths, for `asr eval
// --manifest` and bench/compare/pocketsphinx.sh: DIR/val.jsonl,
// DIR/test.jsonl and DIR/test-<corpus>.jsonl for each corpus.
//
// Whole speakers are held out, so validation and test voices are never
// heard in training. Corpora (the first folder of the audio path) with one
// or two speakers that have many clips stay in training; speakers with at
// most -few clips in corpora of few speakers go to test; in the other
// corpora each speaker goes to test or validation by a seeded hash with the
// corpus's fractions (-test, -val; Common Voice, whose speakers have one
// clip each, gets -cv-test and -cv-val). Each corpus with more than one
// speaker gets at least one test speaker.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type row struct {
	Audio   string `json:"audio"`
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// evalRow is a row of a held-out manifest.
type evalRow struct {
	ID      string `json:"id"`
	Audio   string `json:"audio_filepath"`
	Text    string `json:"text"`
	Speaker string `json:"speaker"`
}

func main() {
	manifest := flag.String("manifest", "data/real-speech/manifest.jsonl", "the corpus manifest")
	out := flag.String("out", "recipes/bundled/real", "folder for val.txt and test.txt")
	seed := flag.Uint64("seed", 1, "seed of the speaker hash")
	test := flag.Float64("test", 0.10, "share of speakers held out for test")
	val := flag.Float64("val", 0.06, "share of speakers held out for validation")
	cvTest := flag.Float64("cv-test", 0.30, "test share of Common Voice's speakers")
	cvVal := flag.Float64("cv-val", 0.20, "validation share of Common Voice's speakers")
	few := flag.Int("few", 3, "speakers with at most this many clips, in corpora of at most 12 speakers, go to test")
	text := flag.String("text", "", "also write the training transcripts to this file")
	manifests := flag.String("manifests", "", "also write the held-out sets as JSONL manifests into this folder")
	flag.Parse()
	if err := run(*manifest, *out, *text, *manifests, *seed, *test, *val, *cvTest, *cvVal, *few); err != nil {
		log.Fatal(err)
	}
}

func run(manifest, out, text, manifests string, seed uint64, test, val, cvTest, cvVal float64, few int) error {
	f, err := os.Open(manifest)
	if err != nil {
		return err
	}
	defer f.Close()
	type speaker struct {
		corpus string
		ids    []string
		texts  []string
		rows   []evalRow
	}
	base, err := filepath.Abs(filepath.Dir(manifest))
	if err != nil {
		return err
	}
	speakers := map[string]*speaker{}
	corpora := map[string][]string{} // corpus -> speakers
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s:%d: %w", manifest, line, err)
		}
		if r.Audio == "" || r.Speaker == "" {
			return fmt.Errorf("%s:%d: a row needs \"audio\" and \"speaker\"", manifest, line)
		}
		corpus, _, ok := strings.Cut(filepath.ToSlash(r.Audio), "/")
		if !ok {
			return fmt.Errorf("%s:%d: audio %q is not in a corpus folder", manifest, line, r.Audio)
		}
		s := speakers[r.Speaker]
		if s == nil {
			s = &speaker{corpus: corpus}
			speakers[r.Speaker] = s
			corpora[corpus] = append(corpora[corpus], r.Speaker)
		}
		// The id the data loader gives a row without "id": its audio path
		// without extension.
		s.ids = append(s.ids, strings.TrimSuffix(r.Audio, filepath.Ext(r.Audio)))
		s.texts = append(s.texts, r.Text)
		s.rows = append(s.rows, evalRow{ID: s.ids[len(s.ids)-1], Audio: filepath.Join(base, r.Audio), Text: r.Text, Speaker: r.Speaker})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	hash := func(spk string) float64 {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%s", seed, spk)))
		return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
	}
	sets := map[string][]string{"val": nil, "test": nil}
	var trainText []string
	held := map[string][]evalRow{} // "val", "test", "test-<corpus>"
	var summary []string
	for _, c := range slices.Sorted(func(yield func(string) bool) {
		for k := range corpora {
			if !yield(k) {
				return
			}
		}
	}) {
		spks := corpora[c]
		slices.Sort(spks)
		t, v := test, val
		if c == "commonvoice-en" {
			t, v = cvTest, cvVal
		}
		var inTest, inVal, inTrain []string
		for _, s := range spks {
			n := len(speakers[s].ids)
			u := hash(s)
			switch {
			case len(spks) <= 2 && n > few:
				inTrain = append(inTrain, s) // too few voices to hold one out
			case len(spks) <= 12 && n <= few:
				inTest = append(inTest, s)
			case u < t:
				inTest = append(inTest, s)
			case u < t+v:
				inVal = append(inVal, s)
			default:
				inTrain = append(inTrain, s)
			}
		}
		if len(inTest) == 0 && len(spks) > 2 {
			// At least one test speaker: the one with the lowest hash
			// among those left in training.
			slices.SortFunc(inTrain, func(a, b string) int { return cmpFloat(hash(a), hash(b)) })
			inTest, inTrain = append(inTest, inTrain[0]), inTrain[1:]
		}
		for _, s := range inTest {
			sets["test"] = append(sets["test"], speakers[s].ids...)
			held["test"] = append(held["test"], speakers[s].rows...)
			held["test-"+c] = append(held["test-"+c], speakers[s].rows...)
		}
		for _, s := range inVal {
			sets["val"] = append(sets["val"], speakers[s].ids...)
			held["val"] = append(held["val"], speakers[s].rows...)
		}
		for _, s := range inTrain {
			trainText = append(trainText, speakers[s].texts...)
		}
		summary = append(summary, fmt.Sprintf("%s: %d speakers: %d train, %d val, %d test", c, len(spks), len(inTrain), len(inVal), len(inTest)))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"val", "test"} {
		ids := sets[name]
		slices.Sort(ids)
		var b strings.Builder
		fmt.Fprintf(&b, "# %s ids of %s: whole speakers held out (go run ./recipes/bundled/splitreal, seed %d)\n", name, filepath.Base(filepath.Dir(manifest)), seed)
		for _, id := range ids {
			b.WriteString(id + "\n")
		}
		if err := os.WriteFile(filepath.Join(out, name+".txt"), []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d utterances\n", name, len(ids))
	}
	if manifests != "" {
		if err := writeManifests(manifests, held); err != nil {
			return err
		}
	}
	if text != "" {
		if err := os.WriteFile(text, []byte(strings.Join(trainText, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Printf("training transcripts: %d lines in %s\n", len(trainText), text)
	}
	for _, s := range summary {
		fmt.Println(s)
	}
	return nil
}

// writeManifests writes each held-out set as DIR/<name>.jsonl.
func writeManifests(dir string, sets map[string][]evalRow) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, rows := range sets {
		slices.SortFunc(rows, func(a, b evalRow) int { return strings.Compare(a.ID, b.ID) })
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		path := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d utterances\n", path, len(rows))
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
