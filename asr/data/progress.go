package data

import (
	"io"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar that may be nil (then it does nothing).
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, n int, desc string) *progress {
	return &progress{bar: progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("utt"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }),
	)}
}

func (p *progress) add(n int) {
	if p != nil {
		p.bar.Add(n)
	}
}

func (p *progress) finish() {
	if p != nil {
		p.bar.Finish()
	}
}
