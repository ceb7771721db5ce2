package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"os"
	"path/filepath"
	"sort"
	"strings"
)

// HashSplit returns the set that the seeded hash split puts id in: the
// first 8 bytes (big-endian) of the SHA-256 of the seed (8 bytes,
// little-endian) followed by the id, read as a fraction u in [0, 1): val when u < valFrac, test when u < valFrac+testFrac,
// train otherwise. It depends on nothing but its arguments, so every machine
// and every run agrees, and adding utterances to a corpus never moves others.
func HashSplit(id string, seed uint64, valFrac, testFrac float64) Split {
	b := make([]byte, 8, 8+len(id))
	binary.LittleEndian.PutUint64(b, seed)
	sum := sha256.Sum256(append(b, id...))
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	switch {
	case u < valFrac:
		return Val
	case u < valFrac+testFrac:
		return Test
	}
	return Train
}

// ReadSplitList reads a split list: one id per line; anything after the
// first '|' or tab is ignored, as are blank lines and '#' comments. It returns
// the ids and the line of each.
func ReadSplitList(path string) ([]string, map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("split list: %w", err)
	}
	defer f.Close()
	var ids []string
	lines := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if i := bytes.IndexAny(b, "|\t"); i >= 0 {
			b = b[:i]
		}
		id := strings.TrimSpace(string(b))
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		if _, dup := lines[id]; dup {
			continue
		}
		lines[id] = n
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("split list %s: %w", path, err)
	}
	return ids, lines, nil
}

// assignSplit sets Split on utts according to cfg (already defaulted) and
// returns the utterances that belong to a set, problems (ids in two lists),
// notes, and a one-line description of the method for the split file.
func assignSplit(utts []Utterance, cfg SplitConfig) (kept []Utterance, probs []Problem, notes []string, method string, err error) {
	l := cfg.Lists
	if l.Train == "" && l.Val == "" && l.Test == "" {
		for i := range utts {
			utts[i].Split = HashSplit(utts[i].ID, cfg.Seed, *cfg.Val, *cfg.Test)
		}
		return utts, nil, nil, fmt.Sprintf("hash seed=%d val=%g test=%g", cfg.Seed, *cfg.Val, *cfg.Test), nil
	}
	type listed struct {
		split Split
		path  string
		line  int
	}
	where := map[string]listed{}
	var parts []string
	for _, sl := range []struct {
		s    Split
		path string
	}{{Val, l.Val}, {Test, l.Test}, {Train, l.Train}} {
		if sl.path == "" {
			continue
		}
		ids, lines, err := ReadSplitList(sl.path)
		if err != nil {
			return nil, nil, nil, "", err
		}
		sum := fnv.New64a()
		for _, id := range ids {
			sum.Write([]byte(id + "\n"))
			if prev, ok := where[id]; ok {
				probs = append(probs, Problem{ID: id, Kind: ProblemListedTwice, Source: sl.path, Line: lines[id],
					Detail: fmt.Sprintf("also in the %s list (%s:%d)", prev.split, prev.path, prev.line)})
				continue
			}
			where[id] = listed{sl.s, sl.path, lines[id]}
		}
		parts = append(parts, fmt.Sprintf("%s=%s(%d ids, fnv %016x)", sl.s, filepath.Base(sl.path), len(ids), sum.Sum64()))
	}
	twice := map[string]bool{}
	for _, p := range probs {
		twice[p.ID] = true
	}
	known := map[string]bool{}
	var unlisted []string
	for _, u := range utts {
		known[u.ID] = true
		if twice[u.ID] {
			continue
		}
		if w, ok := where[u.ID]; ok {
			u.Split = w.split
		} else if l.Train == "" {
			u.Split = Train
		} else {
			unlisted = append(unlisted, u.ID)
			continue
		}
		kept = append(kept, u)
	}
	if len(unlisted) > 0 {
		notes = append(notes, fmt.Sprintf("%d utterances are in no split list and are left out (%s)", len(unlisted), firstFew(unlisted)))
	}
	var unknown []string
	for id := range where {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		notes = append(notes, fmt.Sprintf("%d ids in the split lists are not in the corpus (%s)", len(unknown), firstFew(unknown)))
	}
	return kept, probs, notes, "lists " + strings.Join(parts, " "), nil
}

func firstFew(ids []string) string {
	if len(ids) <= 5 {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:5], ", ") + ", ..."
}

const splitHeader = "# asrkit split v1"

// writeSplitFile records the split beside the cache: a header, the method,
// then "id<TAB>set" per utterance, sorted by id. It is written to a temporary
// file and renamed.
func writeSplitFile(path, method string, utts []Utterance) error {
	rows := make([]string, 0, len(utts))
	for _, u := range utts {
		rows = append(rows, u.ID+"\t"+string(u.Split))
	}
	sort.Strings(rows)
	var b bytes.Buffer
	b.WriteString(splitHeader + "\n# method: " + method + "\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	return writeFileAtomic(path, b.Bytes())
}

// readSplitFile reads a file written by writeSplitFile. It returns the
// method line and the assignment; a missing file gives ("", nil, nil).
func readSplitFile(path string) (string, map[string]Split, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	if !sc.Scan() || sc.Text() != splitHeader {
		return "", nil, fmt.Errorf("%s: not an asrkit split file", path)
	}
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# method: ") {
		return "", nil, fmt.Errorf("%s: no method line", path)
	}
	method := strings.TrimPrefix(sc.Text(), "# method: ")
	m := map[string]Split{}
	for sc.Scan() {
		id, s, ok := strings.Cut(sc.Text(), "\t")
		if !ok || (Split(s) != Train && Split(s) != Val && Split(s) != Test) {
			return "", nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		m[id] = Split(s)
	}
	return method, m, sc.Err()
}
