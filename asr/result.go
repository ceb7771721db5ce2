package asr

import (
	"strings"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
)

// Result is a transcript.
type Result struct {
	// Text is the words separated by single spaces: lower-case letters and
	// apostrophes, as the model's vocabulary spells them.
	Text string
	// Words are the recognised words in order, with their times from the
	// start of the audio.
	Words []Word
	// Duration is the length of the audio transcribed (for a stream's
	// partial result, of the audio accepted so far).
	Duration time.Duration
}

// Word is one recognised word.
type Word struct {
	Text string
	// Start and End locate the word from the start of the audio: from the
	// first model frame (40 ms) aligned to its first character to the end of
	// the last frame aligned to its last character. A CTC model marks each
	// character on one or two frames, so these place a word within a frame
	// or two rather than give its full acoustic extent.
	Start, End time.Duration
	// Confidence in [0, 1] is the mean over the word's characters of each
	// character's highest posterior probability.
	Confidence float64
}

// newResult makes a Result of words from audio of duration d. Word times
// are clamped to d: the model's last frame may reach up to 40 ms past the
// end of the audio.
func newResult(words []Word, d time.Duration) Result {
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = w.Text
		words[i].Start, words[i].End = min(w.Start, d), min(w.End, d)
	}
	if len(words) == 0 {
		words = nil
	}
	return Result{Text: strings.Join(texts, " "), Words: words, Duration: d}
}

// wordsFrom converts a decoder's words, shifting their times by offset.
func wordsFrom(ws []decode.Word, offset time.Duration) []Word {
	out := make([]Word, len(ws))
	for i, w := range ws {
		out[i] = Word{Text: w.Text, Start: w.Start + offset, End: w.End + offset, Confidence: w.Confidence}
	}
	return out
}
