// Package progress draws asrkit's progress bars (github.com/schollz/progressbar,
// one style for every command) and lets log lines share the terminal with
// them.
//
// A [Terminal] owns an output (stderr on a terminal). Bars are drawn on
// it, one at a time; whatever is written to the Terminal itself (give it
// to a slog handler) appears on lines of its own above the bar, which is
// drawn again below, so log lines never break the bar. Callers only make
// bars when the output is a terminal; package asr and its subpackages
// draw nothing unless given an output.
package progress

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Terminal serialises one progress bar and log lines on an output.
type Terminal struct {
	mu   sync.Mutex
	out  io.Writer
	line []byte // the bar as last drawn (its text after the last '\r'); nil when none is shown
}

// NewTerminal returns a Terminal writing to out.
func NewTerminal(out io.Writer) *Terminal { return &Terminal{out: out} }

// Write writes log output: the bar's line is cleared, p is written, and
// the bar is drawn again below it. p should end with a newline (slog's
// handlers write whole lines).
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.line != nil {
		if _, err := io.WriteString(t.out, "\r\033[K"); err != nil {
			return 0, err
		}
	}
	n, err := t.out.Write(p)
	if err == nil && t.line != nil {
		_, err = t.out.Write(t.line)
	}
	return n, err
}

// barWriter is what a bar draws through: it remembers the bar's current
// line so that Write can draw it again.
type barWriter struct{ t *Terminal }

func (w barWriter) Write(p []byte) (int, error) {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	n, err := w.t.out.Write(p)
	switch i := bytes.LastIndexAny(p, "\r\n"); {
	case i >= 0 && p[i] == '\n':
		w.t.line = nil // the bar is finished: later output goes below it
		if rest := p[i+1:]; len(rest) > 0 {
			w.t.line = bytes.Clone(rest)
		}
	case i >= 0:
		w.t.line = bytes.Clone(p[i+1:])
	default:
		w.t.line = append(w.t.line, p...)
	}
	return n, err
}

// Bar is a progress bar drawn on a Terminal. Its methods are safe for
// concurrent use; a nil *Bar does nothing.
type Bar struct {
	pb *progressbar.ProgressBar
}

// Options describe a bar.
type Options struct {
	// Description is shown before the bar ("features", a file name).
	Description string
	// Unit names what is counted ("utt", "steps", "audio s"); with it the
	// bar shows the rate per second.
	Unit string
	// PredictTime shows the estimated time left, from the rate since the
	// bar started. Leave it off when the count does not start at 0 (a
	// resumed job) and put an estimate in the description instead.
	PredictTime bool
}

// New returns a bar counting to max on w. When w is a *Terminal, the bar
// shares it with the log lines written to it; otherwise w is used as a
// Terminal of its own.
func New(w io.Writer, max int64, opts Options) *Bar {
	t, ok := w.(*Terminal)
	if !ok {
		t = NewTerminal(w)
	}
	bw := barWriter{t}
	o := []progressbar.Option{
		progressbar.OptionSetWriter(bw),
		progressbar.OptionSetDescription(opts.Description),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(opts.PredictTime),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionOnCompletion(func() { io.WriteString(bw, "\n") }),
	}
	if opts.Unit != "" {
		o = append(o, progressbar.OptionSetItsString(opts.Unit), progressbar.OptionShowIts())
	}
	return &Bar{pb: progressbar.NewOptions64(max, o...)}
}

// Add advances the bar by n.
func (b *Bar) Add(n int) {
	if b != nil {
		b.pb.Add(n)
	}
}

// Set moves the bar to n.
func (b *Bar) Set(n int64) {
	if b != nil {
		b.pb.Set64(n)
	}
}

// Describe changes the text before the bar.
func (b *Bar) Describe(s string) {
	if b != nil {
		b.pb.Describe(s)
	}
}

// Finish completes the bar (drawing it full) and ends its line.
func (b *Bar) Finish() {
	if b != nil {
		b.pb.Finish()
	}
}

// Close ends the bar's line where it stands, without filling it (a job
// stopped early); a finished bar is left as it is. Log lines then go below
// it.
func (b *Bar) Close() {
	if b != nil && !b.pb.IsFinished() {
		b.pb.Exit()
	}
}
