package features

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// AudioReader decodes audio incrementally: it reads its source a block at a
// time and returns mono samples as they are asked for, so that audio of any
// length (an hours-long file, an endless stream on standard input) is
// decoded in memory bounded by the block size, not by the audio. It accepts
// what [Decode] accepts, recognised the same way, with the same errors;
// an error in the middle of the input (a truncated file, a corrupt frame)
// comes from the Read that reaches it, after the samples before it.
//
// An AudioReader is not safe for concurrent use.
type AudioReader struct {
	rate, channels int
	format         string
	frames         int64 // what the header says the audio holds, -1 when it does not
	capHint        int   // samples to allocate up front when reading everything
	read           func(dst []float32) (int, error)
	closer         io.Closer
	pos            int64
	err            error // sticky: io.EOF or the first error
}

// NewAudioReader reads the header of the audio in r (WAV, FLAC or MP3,
// recognised by its magic bytes) and returns a reader of its samples. The
// other formats that [Decode] recognises give the same [*FormatError]; input
// that is not audio gives an error wrapping [ErrMalformed].
func NewAudioReader(r io.Reader) (*AudioReader, error) {
	hint := remaining(r)
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	switch kind := sniff(head); kind {
	case "wav", "rf64":
		return newWAVReader(br, hint)
	case "flac":
		return newFLACReader(br)
	case "mp3":
		return newMP3Reader(br)
	case "empty":
		return nil, malformed("empty input")
	case "text":
		return nil, malformed("the input is a text file, not audio (it starts %q)", preview(head))
	case "":
		return nil, fmt.Errorf("%w: unknown format (the input starts with bytes % x)", ErrUnsupportedFormat, head[:min(len(head), 12)])
	default:
		return nil, &FormatError{Format: kind}
	}
}

// OpenAudio opens the audio file at path for reading with an [AudioReader];
// Close closes the file. Errors do not repeat the path, except in the
// conversion hint of an unsupported format (which names the real file):
// the caller says which file it was opening.
func OpenAudio(path string) (*AudioReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is a folder, not an audio file", ErrMalformed, path)
	}
	a, err := NewAudioReader(f)
	if err != nil {
		f.Close()
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	a.closer = f
	return a, nil
}

// SampleRate returns the number of samples per second.
func (a *AudioReader) SampleRate() int { return a.rate }

// Channels returns the number of channels of the source (the samples are
// their mean).
func (a *AudioReader) Channels() int { return a.channels }

// Format names the source format: "wav", "rf64", "flac" or "mp3".
func (a *AudioReader) Format() string { return a.format }

// Length returns the number of samples the source's header announces, or -1
// when it does not say (a WAV written while streaming, an MP3). It is a
// claim, for progress reports: the samples that Read returns are the truth.
func (a *AudioReader) Length() int64 { return a.frames }

// Duration returns the length that the header announces, or 0 when it does
// not say.
func (a *AudioReader) Duration() time.Duration {
	if a.frames < 0 {
		return 0
	}
	return time.Duration(float64(a.frames) / float64(a.rate) * float64(time.Second))
}

// Position returns the number of samples read so far.
func (a *AudioReader) Position() int64 { return a.pos }

// Read decodes up to len(dst) samples into dst and returns how many. At the
// end of the audio it returns 0 and io.EOF; after an error it keeps
// returning that error.
func (a *AudioReader) Read(dst []float32) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if len(dst) == 0 {
		return 0, nil
	}
	n, err := a.read(dst)
	a.pos += int64(n)
	if err != nil {
		a.err = err
		if n > 0 {
			// The samples come first; the error with the next call.
			return n, nil
		}
	}
	return n, err
}

// Close closes the file that OpenAudio opened; for a reader from
// NewAudioReader it does nothing.
func (a *AudioReader) Close() error {
	if a.closer == nil {
		return nil
	}
	c := a.closer
	a.closer = nil
	return c.Close()
}

// ReadAll reads the rest of the audio.
func (a *AudioReader) ReadAll() (*Audio, error) {
	out := make([]float32, 0, max(a.capHint, 1<<10))
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := a.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return &Audio{Samples: out, SampleRate: a.rate, Channels: a.channels, Format: a.format}, nil
}
