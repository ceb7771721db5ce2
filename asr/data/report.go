package data

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// ProblemKind names why an utterance is invalid.
type ProblemKind string

// The kinds of problem that [Check] and the readers report.
const (
	ProblemMalformedRow    ProblemKind = "malformed row"
	ProblemDuplicateID     ProblemKind = "duplicate id"
	ProblemMissingAudio    ProblemKind = "missing audio"
	ProblemUnreadableAudio ProblemKind = "unreadable audio"
	ProblemEmptyText       ProblemKind = "empty text"
	ProblemOutOfVocabulary ProblemKind = "characters outside the vocabulary"
	ProblemTooLong         ProblemKind = "longer than max_duration"
	ProblemTooShortForCTC  ProblemKind = "too short for CTC"
	ProblemListedTwice     ProblemKind = "in more than one split list"
)

// problemOrder is the order kinds are printed in.
var problemOrder = []ProblemKind{
	ProblemMalformedRow, ProblemDuplicateID, ProblemMissingAudio, ProblemUnreadableAudio,
	ProblemEmptyText, ProblemOutOfVocabulary, ProblemTooLong, ProblemTooShortForCTC,
	ProblemListedTwice,
}

// Problem is one invalid row or utterance.
type Problem struct {
	// ID is the utterance id ("" when a row is too broken to have one).
	ID string `json:"id,omitempty"`
	// Kind is the reason.
	Kind ProblemKind `json:"kind"`
	// Detail says exactly what is wrong.
	Detail string `json:"detail"`
	// Source and Line locate the row (metadata.csv, a manifest, a split list).
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.ID != "" {
		b.WriteString(p.ID + ": ")
	}
	b.WriteString(string(p.Kind))
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// SetSummary counts the valid utterances of one set.
type SetSummary struct {
	Utterances int     `json:"utterances"`
	Seconds    float64 `json:"seconds"`
}

// CorpusSummary counts the valid utterances of one corpus.
type CorpusSummary struct {
	// Sets counts them per set.
	Sets map[Split]SetSummary `json:"sets"`
	// Speakers is the number of distinct speakers (0 when the source does
	// not name them).
	Speakers int `json:"speakers"`
}

// HistogramBin counts valid utterances with durations in [Lo, Hi) seconds.
type HistogramBin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
}

// Report describes a checked corpus: what was read, what is valid, and every
// problem with its id and line.
type Report struct {
	// Sources are the files read (metadata.csv, manifests).
	Sources []string `json:"sources"`
	// Rows is the number of non-blank rows read from the sources.
	Rows int `json:"rows"`
	// Valid is the number of utterances that passed every check.
	Valid int `json:"valid"`
	// Seconds is the total duration of the valid utterances.
	Seconds float64 `json:"seconds"`
	// MinSeconds and MaxSeconds bound the valid utterances' durations.
	MinSeconds float64 `json:"min_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
	// Sets counts the valid utterances per set (empty before the split).
	Sets map[Split]SetSummary `json:"sets,omitempty"`
	// Corpora counts the valid utterances per corpus (see
	// [Utterance.Corpus]) and set, with their speakers where the source
	// names them.
	Corpora map[string]CorpusSummary `json:"corpora,omitempty"`
	// Histogram counts valid utterances by duration, in 1-second bins.
	Histogram []HistogramBin `json:"histogram"`
	// Problems lists every invalid row or utterance, in source order.
	Problems []Problem `json:"problems"`
	// Skipped is true when the problems were skipped (skip_invalid) rather
	// than treated as fatal.
	Skipped bool `json:"skipped"`
	// Notes are remarks that are not problems: utterances a train split list
	// leaves out on purpose, list entries that name no utterance, a split
	// that changed since the last run.
	Notes []string `json:"notes,omitempty"`
	// MaxDuration is the limit the check used, in seconds.
	MaxDuration float64 `json:"max_duration"`
	// Subsampling is the model time subsampling the CTC check used.
	Subsampling int `json:"subsampling"`
}

// Counts returns the number of problems of each kind.
func (r *Report) Counts() map[ProblemKind]int {
	m := map[ProblemKind]int{}
	for _, p := range r.Problems {
		m[p.Kind]++
	}
	return m
}

// ErrInvalidData is wrapped by the error returned when a corpus has invalid
// utterances and skip_invalid is off.
var ErrInvalidData = errors.New("invalid data")

// Err returns nil when the report has no problems, or when they are being
// skipped; otherwise an error wrapping ErrInvalidData that counts them by
// kind and names the first few.
func (r *Report) Err() error {
	if len(r.Problems) == 0 || r.Skipped {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d rows are invalid (", len(r.Problems), r.Rows)
	b.WriteString(r.countsText())
	b.WriteString(")")
	for i, p := range r.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "\n  ... and %d more (run `asr data check` for the full list)", len(r.Problems)-5)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	b.WriteString("\nfix them, or set datasets.skip_invalid: true to leave them out")
	return fmt.Errorf("%w: %s", ErrInvalidData, b.String())
}

func (r *Report) countsText() string {
	counts := r.Counts()
	var parts []string
	for _, k := range problemOrder {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the report for people: totals, sets, the duration
// histogram, counts of problems by kind and every problem.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sources:    %s\n", strings.Join(r.Sources, ", "))
	fmt.Fprintf(&b, "rows:       %d\n", r.Rows)
	fmt.Fprintf(&b, "valid:      %d utterances, %s", r.Valid, hours(r.Seconds))
	if r.Valid > 0 {
		fmt.Fprintf(&b, " (%.2f to %.2f s, mean %.2f s)", r.MinSeconds, r.MaxSeconds, r.Seconds/float64(r.Valid))
	}
	b.WriteString("\n")
	policy := "fail"
	if r.Skipped {
		policy = "skip"
	}
	fmt.Fprintf(&b, "invalid:    %d (skip_invalid policy: %s)\n", len(r.Problems), policy)
	if len(r.Sets) > 0 {
		for _, s := range Splits {
			if ss, ok := r.Sets[s]; ok {
				fmt.Fprintf(&b, "  %-6s    %d utterances, %s\n", s, ss.Utterances, hours(ss.Seconds))
			}
		}
	}
	if len(r.Corpora) > 1 {
		b.WriteString("corpora:\n")
		for _, name := range slices.Sorted(maps.Keys(r.Corpora)) {
			c := r.Corpora[name]
			fmt.Fprintf(&b, "  %-20s", name)
			for _, s := range Splits {
				if ss, ok := c.Sets[s]; ok {
					fmt.Fprintf(&b, " %s %d (%s)", s, ss.Utterances, hours(ss.Seconds))
				}
			}
			if c.Speakers > 0 {
				fmt.Fprintf(&b, ", %d speakers", c.Speakers)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Histogram) > 0 {
		b.WriteString("durations:\n")
		most := 0
		for _, h := range r.Histogram {
			most = max(most, h.Count)
		}
		for _, h := range r.Histogram {
			bar := 0
			if most > 0 {
				bar = int(math.Ceil(40 * float64(h.Count) / float64(most)))
			}
			fmt.Fprintf(&b, "  %5.1f-%-5.1f s %7d %s\n", h.Lo, h.Hi, h.Count, strings.Repeat("#", bar))
		}
	}
	for _, n := range r.Notes {
		b.WriteString("note:       " + n + "\n")
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "problems:   %s\n", r.countsText())
		for _, p := range r.Problems {
			b.WriteString("  " + p.String() + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hours(sec float64) string {
	if sec < 3600 {
		return fmt.Sprintf("%.1f min", sec/60)
	}
	return fmt.Sprintf("%.2f h", sec/3600)
}

// summarize fills the totals and the histogram from the valid utterances.
func (r *Report) summarize(valid []Utterance) {
	r.Valid = len(valid)
	r.Seconds, r.MinSeconds, r.MaxSeconds = 0, 0, 0
	r.Histogram = nil
	if len(valid) == 0 {
		return
	}
	r.MinSeconds = math.Inf(1)
	top := 0
	for _, u := range valid {
		r.Seconds += u.Duration
		r.MinSeconds = min(r.MinSeconds, u.Duration)
		r.MaxSeconds = max(r.MaxSeconds, u.Duration)
		top = max(top, int(u.Duration))
	}
	bottom := int(r.MinSeconds)
	r.Histogram = make([]HistogramBin, top-bottom+1)
	for i := range r.Histogram {
		r.Histogram[i] = HistogramBin{Lo: float64(bottom + i), Hi: float64(bottom + i + 1)}
	}
	for _, u := range valid {
		r.Histogram[int(u.Duration)-bottom].Count++
	}
}

// sortProblems orders problems by source, line, then id.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.ID < b.ID
	})
}
