package decode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/asrkit/asrkit/asr/text"
)

// DefaultFrameDuration is the duration of one output frame of asrkit's
// models at the default features: a 10 ms hop subsampled 4 times.
const DefaultFrameDuration = 40 * time.Millisecond

// ErrInput is wrapped by the errors about invalid log-probabilities.
var ErrInput = errors.New("decode: invalid log-probabilities")

// LogProbs is one utterance's CTC output: natural-log posteriors, row-major
// [Frames][Vocab], blank at index 0 (the layout of the model's output
// tensor, so no copy is needed).
type LogProbs struct {
	Data   []float32
	Frames int
	Vocab  int
}

// FromRows copies a [frames][vocab] matrix into a LogProbs. Every row must
// have the same length.
func FromRows(rows [][]float32) (LogProbs, error) {
	if len(rows) == 0 {
		return LogProbs{}, nil
	}
	v := len(rows[0])
	data := make([]float32, 0, len(rows)*v)
	for t, r := range rows {
		if len(r) != v {
			return LogProbs{}, fmt.Errorf("%w: row %d has %d values, row 0 has %d", ErrInput, t, len(r), v)
		}
		data = append(data, r...)
	}
	return LogProbs{Data: data, Frames: len(rows), Vocab: v}, nil
}

// Row returns frame t's log-probabilities.
func (lp LogProbs) Row(t int) []float32 { return lp.Data[t*lp.Vocab : (t+1)*lp.Vocab] }

// validate checks the shape against the vocabulary and rejects NaN and +Inf
// (a -Inf log-probability, probability 0, is allowed).
func (lp LogProbs) validate(v *text.Vocabulary) error {
	if lp.Frames > 0 && lp.Vocab != v.Size() {
		return fmt.Errorf("%w: %d classes per frame, the vocabulary has %d", ErrInput, lp.Vocab, v.Size())
	}
	return lp.validateValues()
}

// validateValues checks the shape and the values.
func (lp LogProbs) validateValues() error {
	switch {
	case lp.Frames < 0 || lp.Vocab < 0:
		return fmt.Errorf("%w: negative shape [%d, %d]", ErrInput, lp.Frames, lp.Vocab)
	case len(lp.Data) != lp.Frames*lp.Vocab:
		return fmt.Errorf("%w: %d values for shape [%d, %d]", ErrInput, len(lp.Data), lp.Frames, lp.Vocab)
	}
	for i, x := range lp.Data {
		if x != x || x > 1e-3 || math.IsInf(float64(x), 1) {
			return fmt.Errorf("%w: value %v at frame %d, class %d is not a log-probability", ErrInput, x, i/lp.Vocab, i%lp.Vocab)
		}
	}
	return nil
}

// Word is one recognised word.
type Word struct {
	Text       string
	Start, End time.Duration // from the first frame of its first character to the end of the last frame of its last character
	// Confidence in [0, 1]: the mean, over the word's characters, of each
	// character's highest posterior among the frames aligned to it.
	Confidence float64
}

// Result is a decoded utterance.
type Result struct {
	Text  string // words separated by single spaces
	Words []Word
	// LogProb is the acoustic log-probability: of the single best path for
	// Greedy, of the text summed over the CTC alignments that the search
	// kept for Beam.
	LogProb float64
	// LMLogProb is the language model's ln p(words, </s> | <s>); 0 without
	// a language model.
	LMLogProb float64
	// Score is what the decoder maximised: LogProb + LMWeight·LMLogProb +
	// WordBonus·len(Words), plus the penalties of words outside the
	// language model's vocabulary (Beam's UnknownWordPenalty and
	// UnknownCharPenalty).
	Score float64
}

// Decoder turns one utterance's log-probabilities into text.
type Decoder interface {
	Decode(ctx context.Context, lp LogProbs) (Result, error)
}
