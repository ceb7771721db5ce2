package features

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"github.com/asrkit/asrkit/internal/testutil"
)

// TestAudioReaderMatchesDecode reads every decodable test file in blocks
// of awkward sizes, through a reader that returns one byte at a time (so
// that no length is known), and checks that the samples are exactly those
// of Decode.
func TestAudioReaderMatchesDecode(t *testing.T) {
	dir := testutil.Path(t, "audio")
	for _, name := range []string{"speech16k.wav", "stereo44k.wav", "pcm_u8.wav", "pcm_s24.wav", "float64.wav", "ulaw.wav",
		"ext_6ch_s16.wav", "flac_s16.flac", "flac_s24_stereo.flac", "mp3_mono.mp3", "mp3_stereo.mp3"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			want, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, block := range []int{1, 7, 1000, 1 << 16} {
				a, err := NewAudioReader(iotest.OneByteReader(bytes.NewReader(raw)))
				if err != nil {
					t.Fatal(err)
				}
				if a.SampleRate() != want.SampleRate || a.Channels() != want.Channels || a.Format() != want.Format {
					t.Fatalf("reader says %d Hz, %d channels, %s; Decode %d, %d, %s", a.SampleRate(), a.Channels(), a.Format(), want.SampleRate, want.Channels, want.Format)
				}
				var got []float32
				buf := make([]float32, block)
				for {
					n, err := a.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if len(got) != len(want.Samples) {
					t.Fatalf("block %d: %d samples, Decode %d", block, len(got), len(want.Samples))
				}
				for i := range got {
					if got[i] != want.Samples[i] {
						t.Fatalf("block %d: sample %d is %v, Decode %v", block, i, got[i], want.Samples[i])
					}
				}
				if a.Position() != int64(len(got)) {
					t.Errorf("Position %d after %d samples", a.Position(), len(got))
				}
				if n, err := a.Read(buf); n != 0 || err != io.EOF {
					t.Errorf("Read after the end: %d, %v", n, err)
				}
			}
		})
	}
}

// TestAudioReaderLength checks the announced length: a WAV's data size (and
// the file's real size, when it is smaller), a FLAC's sample count, and
// nothing for a streaming WAV header or an MP3.
func TestAudioReaderLength(t *testing.T) {
	dir := testutil.Path(t, "audio")
	for _, name := range []string{"speech16k.wav", "flac_s16.flac"} {
		a, err := OpenAudio(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		all, err := a.ReadAll()
		a.Close()
		if err != nil {
			t.Fatal(err)
		}
		if a.Length() != int64(len(all.Samples)) || a.Duration() != all.Duration() {
			t.Errorf("%s: Length %d (%v), read %d (%v)", name, a.Length(), a.Duration(), len(all.Samples), all.Duration())
		}
	}
	a, err := OpenAudio(filepath.Join(dir, "mp3_mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Length() != -1 || a.Duration() != 0 {
		t.Errorf("mp3: Length %d, Duration %v", a.Length(), a.Duration())
	}
	s, err := NewAudioReader(&endless{header: testutil.WAVHeader(16000, -1)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Length() != -1 {
		t.Errorf("streaming header: Length %d", s.Length())
	}
}

// endless is a header followed by a sine wave that never ends (until
// limit bytes of samples, when limit > 0).
type endless struct {
	header []byte
	pos    int64
	limit  int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && len(e.header) > 0 {
		c := copy(p, e.header)
		e.header, p, n = e.header[c:], p[c:], n+c
	}
	for len(p) >= 2 {
		if e.limit > 0 && e.pos >= e.limit {
			if n == 0 {
				return 0, io.EOF
			}
			break
		}
		v := int16(8000 * math.Sin(float64(e.pos/2)*0.05))
		binary.LittleEndian.PutUint16(p, uint16(v))
		p, n, e.pos = p[2:], n+2, e.pos+2
	}
	return n, nil
}

// TestAudioReaderEndlessStream reads ten minutes of a WAV stream with a
// streaming header (data size 0xFFFFFFFF) that never ends: the heap must
// not grow with what has been read (Decode of the same would hold it all).
func TestAudioReaderEndlessStream(t *testing.T) {
	const rate = 16000
	a, err := NewAudioReader(&endless{header: testutil.WAVHeader(rate, -1)})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 4096)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for a.Position() < 10*60*rate {
		if _, err := a.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Ten minutes of samples are 38 MB as float32.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 4<<20 {
		t.Errorf("the heap grew by %d bytes while reading 10 minutes", grew)
	}
	if got := time.Duration(a.Position()) * time.Second / rate; got < 10*time.Minute {
		t.Errorf("read %v", got)
	}
}

// TestAudioReaderErrorAfterSamples: a truncated file gives its samples
// first, then the error (the same one Decode gives), and keeps giving it.
func TestAudioReaderErrorAfterSamples(t *testing.T) {
	raw, err := os.ReadFile(testutil.Path(t, "audio", "speech16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	cut := raw[:len(raw)-1001] // a whole number of frames gone, and half of one
	_, want := Decode(bytes.NewReader(cut))
	if !errors.Is(want, ErrMalformed) {
		t.Fatalf("Decode of a truncated file: %v", want)
	}
	a, err := NewAudioReader(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 1000)
	total := 0
	for {
		n, err := a.Read(buf)
		total += n
		if err != nil {
			if err.Error() != want.Error() {
				t.Errorf("error %v, Decode's %v", err, want)
			}
			break
		}
	}
	if total < 1000 {
		t.Errorf("only %d samples before the error", total)
	}
	if _, err := a.Read(buf); err == nil || err == io.EOF {
		t.Errorf("Read after the error: %v", err)
	}
}

func TestOpenAudioErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenAudio(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenAudio(dir); !errors.Is(err, ErrMalformed) {
		t.Errorf("folder: %v", err)
	}
	ogg := testutil.Path(t, "audio", "vorbis.ogg")
	_, err := OpenAudio(ogg)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != ogg {
		t.Errorf("ogg: %v", err)
	}
}
