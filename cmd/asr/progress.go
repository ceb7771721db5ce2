package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/asrkit/asrkit/asr"
)

// progressWriter returns standard error when it is a terminal and
// --no-progress was not given, else nil: progress bars are for people.
func progressWriter(c *cli.Context) io.Writer {
	if c.Bool("no-progress") {
		return nil
	}
	if f, ok := errWriter(c).(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// progressMin is the length of audio from which a transcription shows a
// progress bar.
const progressMin = 30 * time.Second

// audioBar is the progress bar of one transcription, in seconds of audio:
// it appears once the audio is known to be long (30 s or more), and
// counts without a total when the source does not say its length.
type audioBar struct {
	w    io.Writer
	desc string
	bar  *progressbar.ProgressBar
}

func newAudioBar(w io.Writer, desc string) *audioBar { return &audioBar{w: w, desc: desc} }

// update follows asr.Progress reports (an asr.WithProgress callback).
func (b *audioBar) update(p asr.Progress) {
	if b == nil || b.w == nil {
		return
	}
	if b.bar == nil {
		if p.Total < progressMin && p.Done < progressMin {
			return
		}
		total := -1
		if p.Total > 0 {
			total = int(p.Total.Seconds() + 0.5)
		}
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.desc),
			progressbar.OptionSetItsString("audio s"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(total > 0),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	done := int(p.Done.Seconds())
	if p.Total > 0 {
		done = min(done, int(p.Total.Seconds()+0.5))
	}
	b.bar.Set(done)
}

// close removes the bar.
func (b *audioBar) close() {
	if b != nil && b.bar != nil {
		b.bar.Finish()
		b.bar.Exit()
		b.bar = nil
	}
}

// countBar is a progress bar over a number of items (utterances, rows).
type countBar struct{ bar *progressbar.ProgressBar }

func newCountBar(w io.Writer, total int, desc string) *countBar {
	if w == nil || total <= 0 {
		return &countBar{}
	}
	return &countBar{bar: progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond))}
}

// set shows n items done.
func (b *countBar) set(n int) {
	if b.bar != nil {
		b.bar.Set(n)
	}
}

// close removes the bar.
func (b *countBar) close() {
	if b.bar != nil {
		b.bar.Exit()
		b.bar = nil
	}
}
