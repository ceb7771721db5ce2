package asr

import (
	"errors"
	"strings"
)

// Errors of the transcription API. They are wrapped, usually in an
// [*Error]: test with errors.Is.
var (
	// ErrClosed: the Recognizer has been closed.
	ErrClosed = errors.New("recognizer closed")
	// ErrStreamFinished: a Stream was used after Finish.
	ErrStreamFinished = errors.New("stream already finished")
	// ErrSampleRate: a sample rate is outside what the resampler accepts
	// (features.MinSampleRate to features.MaxSampleRate), or a stream's
	// rate changed between chunks.
	ErrSampleRate = errors.New("invalid sample rate")
	// ErrAudio: samples that are not audio (NaN or infinite values).
	ErrAudio = errors.New("invalid audio")
	// ErrOptions: Load was given options that [Options.Validate] rejects.
	ErrOptions = errors.New("invalid options")
)

// Error is the error of a failed call of the package: the operation, the
// file or directory it was about, and the cause. Like fs.PathError, its
// message is "op path: cause" ("load models/x: ...", "transcribe a.wav:
// ..."), without a package prefix: a program adds its own name once, at
// the top. A cause that already names the path is not prefixed with it
// again ("load: model x: no such file or directory"). Every error that Load, LoadDefault, the Recognizer's methods
// and a Stream's methods return is an *Error.
type Error struct {
	// Op is what was being done: "load", "transcribe" or "stream".
	Op string
	// Path is the model directory or audio file concerned, or "" (audio
	// given as samples or a reader, the bundled model).
	Path string
	// Err is the cause; errors.Is and errors.As see through the Error to
	// it (a features.ErrMalformed, an fs.ErrNotExist, context.Canceled, one
	// of the sentinel errors above, ...).
	Err error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Path == "" || namesPath(msg, e.Path) {
		return e.Op + ": " + msg
	}
	return e.Op + " " + e.Path + ": " + msg
}

// namesPath reports whether msg names path as a word of its own: at the
// start or after a space, and followed by a colon, a space or the end (a
// short path such as "a" inside another word does not count).
func namesPath(msg, path string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], path)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(path)
		if (start == 0 || msg[start-1] == ' ') && (end == len(msg) || msg[end] == ':' || msg[end] == ' ') {
			return true
		}
		i = start + 1
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// wrapErr returns err as an *Error of op and path (nil stays nil). An
// error that already is one is returned as it is: each error is described
// once.
func wrapErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Op: op, Path: path, Err: err}
}
