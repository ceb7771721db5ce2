package lm

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestReadSentences(t *testing.T) {
	read := func(in string, opts TextOptions) ([]string, error) {
		var got []string
		err := ReadSentences(context.Background(), strings.NewReader(in), "t.txt", opts, func(ws []string, where string) error {
			got = append(got, where+" "+strings.Join(ws, "_"))
			return nil
		})
		return got, err
	}
	got, err := read("Dr. Smith paid $5.\n\n!!\nIn 1865 they left\n", TextOptions{})
	if want := "t.txt:1 dr_smith_paid_five_dollars|t.txt:4 in_eighteen_sixty_five_they_left"; err != nil || strings.Join(got, "|") != want {
		t.Errorf("normalised: %q, %v; want %q", got, err, want)
	}
	got, err = read("LJ1|Mr. X|mister x\nLJ2|two|two words\n", TextOptions{Metadata: true, NoNormalize: true})
	if want := "t.txt:1 mister_x|t.txt:2 two_words"; err != nil || strings.Join(got, "|") != want {
		t.Errorf("metadata: %q, %v", got, err)
	}
	if _, err := read("ok|fine\nno pipes\n", TextOptions{Metadata: true}); err == nil || err.Error() != "t.txt:2: not an id|text line" {
		t.Errorf("bad metadata: %v", err)
	}
	stop := errors.New("stop")
	err = ReadSentences(context.Background(), strings.NewReader("a\nb\n"), "t", TextOptions{}, func([]string, string) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ReadSentences(ctx, strings.NewReader(strings.Repeat("a b\n", 5000)), "t", TextOptions{}, func([]string, string) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
