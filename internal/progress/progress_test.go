package progress

import (
	"bytes"
	"strings"
	"testing"
)

// screen replays terminal output: '\r' returns to the start of the line,
// "\033[K" clears it, '\n' ends it. It returns the lines as a terminal
// would show them.
func screen(out string) []string {
	var lines []string
	var cur []rune
	col := 0
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\033[K"), strings.HasPrefix(out[i:], "\033[0K"), strings.HasPrefix(out[i:], "\033[2K"):
			cur = cur[:col]
			i += strings.Index(out[i:], "K") + 1
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, strings.TrimRight(string(cur), " "))
			cur, col = nil, 0
		default:
			if col < len(cur) {
				cur[col] = rune(out[i])
			} else {
				cur = append(cur, rune(out[i]))
			}
			col++
		}
		i++
	}
	if len(cur) > 0 {
		lines = append(lines, strings.TrimRight(string(cur), " "))
	}
	return lines
}

func TestLogLinesGoAboveTheBar(t *testing.T) {
	var out bytes.Buffer
	term := NewTerminal(&out)
	bar := New(term, 10, Options{Description: "features", Unit: "utt"})
	bar.Set(3)
	term.Write([]byte("level=WARN msg=\"skipping a clip\"\n"))
	bar.Set(10)
	term.Write([]byte("after the bar\n"))
	lines := screen(out.String())
	if len(lines) != 3 {
		t.Fatalf("screen shows %d lines, want 3 (log, bar, log):\n%q", len(lines), lines)
	}
	if lines[0] != `level=WARN msg="skipping a clip"` {
		t.Errorf("first line %q: the log line was mixed with the bar", lines[0])
	}
	if !strings.HasPrefix(lines[1], "features") || !strings.Contains(lines[1], "10/10") {
		t.Errorf("second line %q, want the finished bar", lines[1])
	}
	if lines[2] != "after the bar" {
		t.Errorf("third line %q", lines[2])
	}
}

func TestCloseLeavesTheBarWhereItStands(t *testing.T) {
	var out bytes.Buffer
	term := NewTerminal(&out)
	bar := New(term, 100, Options{Description: "train"})
	bar.Set(40)
	bar.Close()
	term.Write([]byte("stopped\n"))
	lines := screen(out.String())
	if len(lines) != 2 || !strings.Contains(lines[0], "40/100") || lines[1] != "stopped" {
		t.Errorf("screen %q", lines)
	}
	// Closing a finished bar adds nothing.
	out.Reset()
	done := New(term, 2, Options{})
	done.Set(2)
	done.Close()
	if lines := screen(out.String()); len(lines) != 1 || !strings.Contains(lines[0], "2/2") {
		t.Errorf("finished then closed: %q", lines)
	}
	var nilBar *Bar
	nilBar.Add(1) // a nil bar does nothing
	nilBar.Finish()
}
