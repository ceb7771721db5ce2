package lm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/asrkit/asrkit/asr/text"
)

// TextOptions says how [ReadSentences] reads training text.
type TextOptions struct {
	// Metadata reads lines as LJSpeech metadata.csv rows,
	// "id|text|normalized text": the last column is the sentence.
	Metadata bool
	// NoNormalize uses lines as they are (already normalised,
	// space-separated words) instead of normalising them like training
	// transcripts (text.Normalize: lower case, numbers spelled out,
	// punctuation dropped), so that the language model's words are the
	// words the acoustic model spells.
	NoNormalize bool
}

// ReadSentences reads one sentence per line from r and calls fn with its
// words and its place ("name:line"), skipping lines with no words. It stops
// at fn's first error, at a line longer than 16 MiB, or when ctx is
// cancelled (checked every 4,096 lines). name names r in messages.
func ReadSentences(ctx context.Context, r io.Reader, name string, opts TextOptions, fn func(words []string, where string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := sc.Text()
		if opts.Metadata {
			cols := strings.Split(s, "|")
			if len(cols) < 2 {
				return fmt.Errorf("%s:%d: not an id|text line", name, line)
			}
			s = cols[len(cols)-1]
		}
		if !opts.NoNormalize {
			s = text.Normalize(s)
		}
		words := strings.Fields(s)
		if len(words) == 0 {
			continue
		}
		if err := fn(words, fmt.Sprintf("%s:%d", name, line)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
