package features

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Sentinel errors. Errors returned by the decoders wrap one of them with the
// details, so test with errors.Is.
var (
	// ErrUnsupportedFormat reports audio in a container or codec that this
	// package recognises (by its magic bytes) but does not decode. The error
	// is a *FormatError that names the format and shows the ffmpeg and sox
	// commands that convert the file to WAV.
	ErrUnsupportedFormat = errors.New("unsupported audio format")

	// ErrMalformed reports input that claims to be in a supported format but
	// breaks it: a truncated header, a chunk whose size runs past the end of
	// the input, zero channels, an absurd sample rate, a text file, an empty
	// input.
	ErrMalformed = errors.New("malformed audio")
)

// FormatError is the error returned for audio in a format that this package
// recognises but does not decode. It wraps [ErrUnsupportedFormat].
type FormatError struct {
	// Format names the container or codec, such as "ogg/vorbis" or "m4a".
	Format string
	// Path is the file name, when the input came from [DecodeFile]; the
	// conversion hint then names the real file.
	Path string
}

// Error names the format and gives the conversion commands.
func (e *FormatError) Error() string {
	in := e.Path
	if in == "" {
		in = "input." + formatExt(e.Format)
	}
	out := strings.TrimSuffix(in, filepath.Ext(in)) + "-16k.wav"
	return fmt.Sprintf("%v: %s is not decoded by asrkit (it reads WAV, FLAC and MP3); convert it first: "+
		"ffmpeg -i %s -ac 1 -ar 16000 %s (or: sox %s -c 1 -r 16000 %s)",
		ErrUnsupportedFormat, e.Format, shellQuote(in), shellQuote(out), shellQuote(in), shellQuote(out))
}

// Unwrap returns [ErrUnsupportedFormat].
func (e *FormatError) Unwrap() error { return ErrUnsupportedFormat }

func formatExt(format string) string {
	switch format {
	case "ogg/vorbis", "ogg/flac", "ogg":
		return "ogg"
	case "ogg/opus":
		return "opus"
	case "mp4/m4a", "m4a":
		return "m4a"
	case "aiff", "aiff-c":
		return "aiff"
	case "webm/matroska":
		return "webm"
	case "aac/adts":
		return "aac"
	case "sun/au":
		return "au"
	case "wave64":
		return "w64"
	case "wavpack":
		return "wv"
	case "monkeys-audio":
		return "ape"
	}
	if i := strings.IndexAny(format, "/ "); i > 0 {
		return format[:i]
	}
	return format
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters, so that the hint can be pasted as it is.
func shellQuote(s string) string {
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,:@%", r)) {
			safe = false
			break
		}
	}
	if safe && s != "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// malformed returns an error wrapping ErrMalformed with a formatted message.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
