package asr

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// resultJSON is the JSON form of a Result: times in float seconds.
type resultJSON struct {
	Text     string     `json:"text"`
	Duration float64    `json:"duration"`
	Words    []wordJSON `json:"words"`
}

type wordJSON struct {
	Word       string  `json:"word"`
	Start      float64 `json:"start"`
	End        float64 `json:"end"`
	Confidence float64 `json:"confidence"`
}

// seconds rounds a duration to milliseconds, as float seconds.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func fromSeconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// MarshalJSON writes the result with times in seconds (to the millisecond):
//
//	{"text": "in being comparatively modern", "duration": 1.9,
//	 "words": [{"word": "in", "start": 0.2, "end": 0.28, "confidence": 0.97}, ...]}
//
// words is [] when there are none.
func (r Result) MarshalJSON() ([]byte, error) {
	out := resultJSON{Text: r.Text, Duration: seconds(r.Duration), Words: make([]wordJSON, len(r.Words))}
	for i, w := range r.Words {
		out.Words[i] = wordJSON{Word: w.Text, Start: seconds(w.Start), End: seconds(w.End), Confidence: math.Round(w.Confidence*1000) / 1000}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (r *Result) UnmarshalJSON(b []byte) error {
	var in resultJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Result{Text: in.Text, Duration: fromSeconds(in.Duration)}
	for _, w := range in.Words {
		r.Words = append(r.Words, Word{Text: w.Word, Start: fromSeconds(w.Start), End: fromSeconds(w.End), Confidence: w.Confidence})
	}
	return nil
}

// Caption is one subtitle: a run of words shown together.
type Caption struct {
	Start, End time.Duration
	Text       string
}

// Caption limits: a caption ends at a pause, or before it would pass
// either limit (the usual subtitle guidelines: two lines of about 42
// characters, at most about 7 seconds on screen).
const (
	captionMaxChars = 84
	captionMaxTime  = 7 * time.Second
	captionPause    = 700 * time.Millisecond
)

// Captions groups the words into subtitles: a caption ends at a pause of
// 0.7 s or more, and holds at most 84 characters and 7 seconds. Each
// caption spans its words' times.
func (r Result) Captions() []Caption {
	var out []Caption
	var cur *Caption
	for i, w := range r.Words {
		if cur != nil {
			gap := w.Start - r.Words[i-1].End
			if gap >= captionPause || len(cur.Text)+1+len(w.Text) > captionMaxChars || w.End-cur.Start > captionMaxTime {
				cur = nil
			}
		}
		if cur == nil {
			out = append(out, Caption{Start: w.Start, End: w.End, Text: w.Text})
			cur = &out[len(out)-1]
			continue
		}
		cur.Text += " " + w.Text
		cur.End = w.End
	}
	return out
}

// WriteSRT writes the captions as SubRip subtitles.
func (r Result) WriteSRT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i, c := range r.Captions() {
		fmt.Fprintf(bw, "%d\n%s --> %s\n%s\n\n", i+1, clock(c.Start, ','), clock(c.End, ','), wrapCaption(c.Text))
	}
	return bw.Flush()
}

// WriteVTT writes the captions as WebVTT subtitles.
func (r Result) WriteVTT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("WEBVTT\n\n")
	for _, c := range r.Captions() {
		fmt.Fprintf(bw, "%s --> %s\n%s\n\n", clock(c.Start, '.'), clock(c.End, '.'), wrapCaption(c.Text))
	}
	return bw.Flush()
}

// WriteTSV writes the captions as tab-separated values, as Whisper writes
// them: a header line "start<TAB>end<TAB>text", then one caption per line
// with its start and end in whole milliseconds.
func (r Result) WriteTSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("start\tend\ttext\n")
	for _, c := range r.Captions() {
		fmt.Fprintf(bw, "%d\t%d\t%s\n", c.Start.Milliseconds(), c.End.Milliseconds(), c.Text)
	}
	return bw.Flush()
}

// clock formats a time as HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT).
func clock(d time.Duration, sep byte) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, sep, ms%1000)
}

// wrapCaption breaks a caption longer than one line (42 characters) into
// two lines of similar length at a space.
func wrapCaption(s string) string {
	if len(s) <= captionMaxChars/2 {
		return s
	}
	best := -1
	for i := range len(s) {
		if s[i] == ' ' && (best < 0 || abs(len(s)-2*i) < abs(len(s)-2*best)) {
			best = i
		}
	}
	if best < 0 {
		return s
	}
	return s[:best] + "\n" + strings.TrimLeft(s[best:], " ")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
