package lm

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ErrFormat is wrapped by every error about a malformed ARPA file; the
// message names the line.
var ErrFormat = errors.New("lm: malformed ARPA file")

// maxOrder bounds the order an ARPA file may declare.
const maxOrder = 255

func formatErr(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrFormat, line, fmt.Sprintf(format, args...))
}

// LoadARPA reads an ARPA file; see [ReadARPA].
func LoadARPA(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lm: %w", err)
	}
	defer f.Close()
	m, err := ReadARPA(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadARPA reads a model in ARPA format: text before \data\ is ignored;
// the header's "ngram N=count" lines must match the sections that follow;
// each n-gram line is "log10prob w1 ... wN [log10backoff]" with fields
// separated by spaces or tabs; every n-gram's (N-1)-word prefix must be an
// (N-1)-gram; the file ends with \end\. Errors wrap [ErrFormat] and name
// the line. A gzip-compressed file (such as lm.arpa.gz) is recognised by its
// magic bytes and decompressed on the fly.
func ReadARPA(r io.Reader) (*Model, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrFormat, err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return strings.TrimSpace(sc.Text()), true
	}
	// ended reports the end of input: a read error, or a file cut short.
	ended := func(format string, args ...any) error {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("lm: reading ARPA after line %d: %w", line, err)
		}
		return formatErr(line, format, args...)
	}
	// Header.
	found := false
	for {
		s, ok := next()
		if !ok {
			break
		}
		if s == `\data\` {
			found = true
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lm: reading ARPA: %w", err)
	}
	if !found {
		return nil, fmt.Errorf(`%w: no \data\ line`, ErrFormat)
	}
	var declared []int
	var s string
	var ok bool
	for {
		s, ok = next()
		if !ok {
			return nil, ended(`file ends inside the \data\ header`)
		}
		if s == "" {
			continue
		}
		if !strings.HasPrefix(s, "ngram ") {
			break
		}
		ns, cs, eq := strings.Cut(strings.TrimSpace(strings.TrimPrefix(s, "ngram ")), "=")
		n, err1 := strconv.Atoi(strings.TrimSpace(ns))
		c, err2 := strconv.Atoi(strings.TrimSpace(cs))
		switch {
		case !eq || err1 != nil || err2 != nil:
			return nil, formatErr(line, "want \"ngram N=count\", got %q", s)
		case n != len(declared)+1:
			return nil, formatErr(line, "ngram %d declared after %d orders (want %d)", n, len(declared), len(declared)+1)
		case n > maxOrder:
			return nil, formatErr(line, "order %d is above the maximum %d", n, maxOrder)
		case c < 0:
			return nil, formatErr(line, "negative count %d", c)
		}
		declared = append(declared, c)
	}
	if len(declared) == 0 {
		return nil, formatErr(line, "no \"ngram N=count\" lines after \\data\\")
	}
	if declared[0] == 0 {
		return nil, formatErr(line, "the model declares no 1-grams")
	}
	order := len(declared)
	b := newSizedBuilder(order, declared)
	for n := 1; n <= order; n++ {
		// s holds the section header.
		for s == "" {
			if s, ok = next(); !ok {
				return nil, ended("file ends before the \\%d-grams: section", n)
			}
		}
		if want := fmt.Sprintf(`\%d-grams:`, n); s != want {
			return nil, formatErr(line, "want %q, got %q", want, s)
		}
		got := 0
		words := make([]string, 0, n)
		for {
			if s, ok = next(); !ok {
				return nil, ended("file ends inside the \\%d-grams: section", n)
			}
			if s == "" {
				continue
			}
			if strings.HasPrefix(s, `\`) {
				break
			}
			f := strings.Fields(s)
			if len(f) != n+1 && len(f) != n+2 {
				return nil, formatErr(line, "a %d-gram line needs a probability, %d words and an optional backoff; got %d fields", n, n, len(f))
			}
			lp, err := parseLog(f[0])
			if err != nil {
				return nil, formatErr(line, "probability %q: %v", f[0], err)
			}
			if lp > 0 {
				return nil, formatErr(line, "log10 probability %s is positive", f[0])
			}
			var bo float64
			if len(f) == n+2 {
				if bo, err = parseLog(f[n+1]); err != nil || math.IsInf(bo, 0) {
					return nil, formatErr(line, "backoff %q is not a finite number", f[n+1])
				}
				if n == order && bo != 0 {
					return nil, formatErr(line, "a highest-order (%d-gram) line has a backoff weight", n)
				}
			}
			words = append(words[:0], f[1:n+1]...)
			if n == 1 {
				err = b.addUnigram(words[0], float32(lp), float32(bo))
			} else {
				err = b.addNGram(words, float32(lp), float32(bo))
			}
			if err != nil {
				return nil, formatErr(line, "%v", err)
			}
			got++
		}
		if got != declared[n-1] {
			return nil, formatErr(line, "the header declares %d %d-grams, the section has %d", declared[n-1], n, got)
		}
	}
	if s != `\end\` {
		return nil, formatErr(line, `want \end\, got %q`, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lm: reading ARPA: %w", err)
	}
	return b.finish(), nil
}

// parseLog parses a log10 value; "-inf" is accepted for probability zero.
func parseLog(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not a number")
	}
	if math.IsNaN(v) {
		return 0, errors.New("not a number")
	}
	if math.IsInf(v, -1) {
		return -99, nil // ARPA's conventional "zero" (as for <s>)
	}
	if math.IsInf(v, 1) {
		return 0, errors.New("infinite")
	}
	if math.Abs(v) > math.MaxFloat32 {
		// The model stores float32: this would become ±Inf.
		return 0, errors.New("out of range")
	}
	return v, nil
}

// WriteARPA writes the model in ARPA format: n-grams sorted by their words
// within each order, log10 values with 7 significant digits, and a backoff
// column on every n-gram that is a context or has a non-zero backoff.
func (m *Model) WriteARPA(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\\data\\\n")
	for n, c := range m.count {
		fmt.Fprintf(bw, "ngram %d=%d\n", n+1, c)
	}
	byOrder := make([][]int32, m.order)
	for e := range m.nodes {
		o := m.nodes[e].order - 1
		byOrder[o] = append(byOrder[o], int32(e))
	}
	for n := 1; n <= m.order; n++ {
		fmt.Fprintf(bw, "\n\\%d-grams:\n", n)
		entries := byOrder[n-1]
		texts := make([]string, len(entries))
		for i, e := range entries {
			texts[i] = strings.Join(m.ngramWords(e), " ")
		}
		idx := make([]int, len(entries))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(texts[a], texts[b]) })
		for _, i := range idx {
			nd := &m.nodes[entries[i]]
			bw.WriteString(formatLog(nd.logp))
			bw.WriteByte('\t')
			bw.WriteString(texts[i])
			if n < m.order && (nd.hasExt || nd.backoff != 0) {
				bw.WriteByte('\t')
				bw.WriteString(formatLog(nd.backoff))
			}
			bw.WriteByte('\n')
		}
	}
	bw.WriteString("\n\\end\\\n")
	return bw.Flush()
}

func formatLog(v float32) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(v), 'g', 7, 32)
}
