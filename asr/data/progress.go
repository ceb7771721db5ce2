package data

import (
	"io"

	prog "github.com/asrkit/asrkit/internal/progress"
)

// progress is a progress bar of utterances that may be nil (then it does
// nothing). It is drawn by internal/progress: when the writer is a
// progress.Terminal, log lines written to it go above the bar.
type progress struct{ bar *prog.Bar }

func newProgress(w io.Writer, n int, desc string) *progress {
	return &progress{prog.New(w, int64(n), prog.Options{Description: desc, Unit: "utt", PredictTime: true})}
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
