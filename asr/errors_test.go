package asr

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	for _, c := range []struct {
		name string
		err  *Error
		want string
	}{
		{"op only", &Error{Op: "transcribe", Err: ErrClosed}, "transcribe: recognizer closed"},
		{"op and path", &Error{Op: "transcribe", Path: "a.wav", Err: fs.ErrNotExist}, "transcribe a.wav: file does not exist"},
		{"path said once", &Error{Op: "load", Path: "/m/x", Err: fmt.Errorf("model /m/x: %w", fs.ErrNotExist)}, "load: model /m/x: file does not exist"},
		{"path inside a word", &Error{Op: "transcribe", Path: "a", Err: errors.New("malformed data")}, "transcribe a: malformed data"},
		{"path as a prefix", &Error{Op: "load", Path: "/m/x", Err: errors.New("model /m/x2: no manifest")}, "load /m/x: model /m/x2: no manifest"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if !errors.Is(c.err, c.err.Err) {
			t.Errorf("%s: errors.Is does not see the cause", c.name)
		}
	}
}
