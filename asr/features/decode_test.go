package features

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/asrkit/asrkit/internal/testutil"
)

// soxSamples decodes a file with sox into mono float32 (sox averages the
// channels when it mixes down), the outside reference for our decoders.
func soxSamples(t *testing.T, path string) []float32 {
	t.Helper()
	sox := testutil.RequireTool(t, "sox")
	out, err := exec.Command(sox, path, "-t", "f32", "-c", "1", "-").Output()
	if err != nil {
		t.Fatalf("sox %s: %v", path, err)
	}
	s := make([]float32, len(out)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return s
}

func TestDecodeMatchesSox(t *testing.T) {
	tests := []struct {
		file     string
		format   string
		rate     int
		channels int
		tol      float64
	}{
		{"speech16k.wav", "wav", 16000, 1, 0},
		{"pcm_u8.wav", "wav", 16000, 1, 0},
		{"pcm_s24.wav", "wav", 16000, 1, 0},
		{"pcm_s32.wav", "wav", 16000, 1, 0},
		{"float32.wav", "wav", 16000, 1, 0},
		{"float64.wav", "wav", 16000, 1, 0},
		{"alaw.wav", "wav", 16000, 1, 0},
		{"ulaw.wav", "wav", 16000, 1, 0},
		{"ext_s24.wav", "wav", 16000, 1, 0},
		{"ext_float32.wav", "wav", 16000, 1, 0},
		{"stereo_s16.wav", "wav", 16000, 2, 1e-7},
		{"ext_6ch_s16.wav", "wav", 16000, 6, 1e-7},
		{"speech22k.wav", "wav", 22050, 1, 0},
		{"stereo44k.wav", "wav", 44100, 2, 1e-7},
		{"speech8k.wav", "wav", 8000, 1, 0},
		{"flac_s16.flac", "flac", 16000, 1, 0},
		{"flac_s24_stereo.flac", "flac", 44100, 2, 1e-7},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testutil.Path(t, "audio", tt.file)
			a, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if a.Format != tt.format || a.SampleRate != tt.rate || a.Channels != tt.channels {
				t.Errorf("got format %q, %d Hz, %d channels; want %q, %d Hz, %d channels",
					a.Format, a.SampleRate, a.Channels, tt.format, tt.rate, tt.channels)
			}
			want := soxSamples(t, path)
			if len(a.Samples) != len(want) {
				t.Fatalf("got %d samples, sox gives %d", len(a.Samples), len(want))
			}
			var worst float64
			var energy float64
			for i := range want {
				worst = max(worst, math.Abs(float64(a.Samples[i]-want[i])))
				energy += float64(want[i]) * float64(want[i])
			}
			if worst > tt.tol {
				t.Errorf("largest difference from sox %g (tolerance %g)", worst, tt.tol)
			}
			if energy == 0 {
				t.Errorf("the file is silent; the test proves nothing")
			}
		})
	}
}

func TestDecodeMP3(t *testing.T) {
	for _, tt := range []struct {
		file     string
		rate     int
		channels int
	}{{"mp3_mono.mp3", 16000, 1}, {"mp3_stereo.mp3", 44100, 2}} {
		t.Run(tt.file, func(t *testing.T) {
			path := testutil.Path(t, "audio", tt.file)
			a, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if a.Format != "mp3" || a.SampleRate != tt.rate || a.Channels != tt.channels {
				t.Errorf("got %q %d Hz %d channels, want mp3 %d Hz %d channels", a.Format, a.SampleRate, a.Channels, tt.rate, tt.channels)
			}
			// ffmpeg is the reference: both are full decoders of the same
			// stream, so after aligning the delay they agree closely.
			ff := testutil.RequireTool(t, "ffmpeg")
			// (ffmpeg's own stereo-to-mono matrix is not the mean; average here.)
			out, err := exec.Command(ff, "-loglevel", "error", "-i", path, "-f", "f32le", "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			ref := make([]float32, len(out)/4/tt.channels)
			for i := range ref {
				for c := range tt.channels {
					ref[i] += math.Float32frombits(binary.LittleEndian.Uint32(out[4*(i*tt.channels+c):])) / float32(tt.channels)
				}
			}
			snr, lag := bestAlignedSNR(a.Samples, ref, 100)
			if len(a.Samples) != len(ref) || lag != 0 {
				t.Errorf("got %d samples at lag %d, ffmpeg gives %d samples (gapless trimming differs)", len(a.Samples), lag, len(ref))
			}
			t.Logf("%s: %d samples (ffmpeg %d), lag %d, SNR %.1f dB", tt.file, len(a.Samples), len(ref), lag, snr)
			if snr < 30 {
				t.Errorf("SNR against ffmpeg %.1f dB at lag %d, want at least 30 dB", snr, lag)
			}
		})
	}
}

// bestAlignedSNR returns the SNR in dB of x against ref at the lag (x later
// than ref by lag samples, |lag| <= maxLag) that maximises it.
func bestAlignedSNR(x, ref []float32, maxLag int) (float64, int) {
	best, bestLag := math.Inf(-1), 0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var sig, noise float64
		for i := range ref {
			j := i + lag
			if j < 0 || j >= len(x) {
				continue
			}
			d := float64(x[j]) - float64(ref[i])
			sig += float64(ref[i]) * float64(ref[i])
			noise += d * d
		}
		if noise == 0 {
			continue
		}
		if snr := 10 * math.Log10(sig/noise); snr > best {
			best, bestLag = snr, lag
		}
	}
	return best, bestLag
}

func TestDecodeUnsupportedFormats(t *testing.T) {
	tests := []struct{ file, format string }{
		{"vorbis.ogg", "ogg/vorbis"},
		{"opus.opus", "ogg/opus"},
		{"aac.m4a", "mp4/m4a"},
		{"webm.webm", "webm/matroska"},
		{"adts.aac", "aac/adts"},
		{"aiff.aiff", "aiff"},
		{"sun.au", "sun/au"},
		{"wave64.w64", "wave64"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testutil.Path(t, "audio", tt.file)
			_, err := DecodeFile(path)
			if !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("got %v, want ErrUnsupportedFormat", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Format != tt.format {
				t.Fatalf("got %#v, want a *FormatError for %q", err, tt.format)
			}
			msg := err.Error()
			for _, want := range []string{tt.format, "ffmpeg -i " + path, "sox " + path, "-ar 16000"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestFormatErrorHintQuotes(t *testing.T) {
	err := &FormatError{Format: "ogg/vorbis", Path: "my talk's.ogg"}
	want := `ffmpeg -i 'my talk'\''s.ogg' -ac 1 -ar 16000 'my talk'\''s-16k.wav'`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("hint %q does not contain %q", err.Error(), want)
	}
}

// riffChunk is one chunk of a hand-built RIFF file. size overrides the real
// length in the header when set (>= 0); pad adds the padding byte.
type riffChunk struct {
	id   string
	body []byte
	size int64
}

func chunk(id string, body []byte) riffChunk { return riffChunk{id: id, body: body, size: -1} }

// buildRIFF assembles a RIFF/WAVE file. riffSize < 0 computes the real size.
func buildRIFF(magic string, riffSize int64, chunks ...riffChunk) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		b.WriteString(c.id)
		size := uint32(len(c.body))
		if c.size >= 0 {
			size = uint32(c.size)
		}
		binary.Write(&b, binary.LittleEndian, size)
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	out := append([]byte(magic), 0, 0, 0, 0)
	out = append(out, "WAVE"...)
	out = append(out, b.Bytes()...)
	if riffSize < 0 {
		riffSize = int64(len(out) - 8)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(riffSize))
	return out
}

func fmtChunk(code, channels uint16, rate uint32, bits uint16) riffChunk {
	b := make([]byte, 16)
	align := channels * ((bits + 7) / 8)
	binary.LittleEndian.PutUint16(b[0:], code)
	binary.LittleEndian.PutUint16(b[2:], channels)
	binary.LittleEndian.PutUint32(b[4:], rate)
	binary.LittleEndian.PutUint32(b[8:], rate*uint32(align))
	binary.LittleEndian.PutUint16(b[12:], align)
	binary.LittleEndian.PutUint16(b[14:], bits)
	return chunk("fmt ", b)
}

func extensibleFmt(channels uint16, rate uint32, bits, valid uint16, guid []byte) riffChunk {
	c := fmtChunk(wavExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)
	binary.LittleEndian.PutUint16(ext[2:], valid)
	binary.LittleEndian.PutUint32(ext[4:], 0)
	copy(ext[8:], guid)
	c.body = append(c.body, ext...)
	return c
}

func ksGUID(code uint16) []byte {
	g := binary.LittleEndian.AppendUint16(nil, code)
	return append(g, ksGUIDSuffix[:]...)
}

func pcm16(v ...int16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

func TestDecodeWAVVariants(t *testing.T) {
	data := pcm16(0, 16384, -16384, 32767, -32768)
	want := []float32{0, 0.5, -0.5, 32767.0 / 32768, -1}
	stereo := pcm16(16384, 0, -16384, -16384, 32767, 32767)
	ds64 := make([]byte, 28)
	binary.LittleEndian.PutUint64(ds64[8:], uint64(len(data)))
	f64 := make([]byte, 16)
	binary.LittleEndian.PutUint64(f64, math.Float64bits(0.25))
	binary.LittleEndian.PutUint64(f64[8:], math.Float64bits(-0.75))
	s24 := []byte{0x00, 0x00, 0x40, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff}
	tests := []struct {
		name     string
		in       []byte
		want     []float32
		channels int
		format   string
	}{
		{"plain", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("data", data)), want, 1, "wav"},
		{"LIST before fmt", buildRIFF("RIFF", -1, chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox!\x00\x00")), fmtChunk(1, 1, 16000, 16), chunk("data", data)), want, 1, "wav"},
		{"odd-size chunk with padding", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("junk", []byte("abc")), chunk("fact", []byte{5, 0, 0, 0}), chunk("data", data)), want, 1, "wav"},
		{"chunks after data", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("data", data), chunk("LIST", []byte("INFOxxxx"))), want, 1, "wav"},
		{"data size 0 (streaming)", buildRIFF("RIFF", 0, fmtChunk(1, 1, 16000, 16), riffChunk{"data", data, 0}), want, 1, "wav"},
		{"data size 0xFFFFFFFF (streaming)", buildRIFF("RIFF", 0xffffffff, fmtChunk(1, 1, 16000, 16), riffChunk{"data", data, 0xffffffff}), want, 1, "wav"},
		{"wrong RIFF size", buildRIFF("RIFF", 12345, fmtChunk(1, 1, 16000, 16), chunk("data", data)), want, 1, "wav"},
		{"RF64", buildRIFF("RF64", 0xffffffff, chunk("ds64", ds64), fmtChunk(1, 1, 16000, 16), riffChunk{"data", data, 0xffffffff}), want, 1, "rf64"},
		{"stereo downmix", buildRIFF("RIFF", -1, fmtChunk(1, 2, 16000, 16), chunk("data", stereo)), []float32{0.25, -0.5, 32767.0 / 32768}, 2, "wav"},
		{"float64", buildRIFF("RIFF", -1, fmtChunk(3, 1, 16000, 64), chunk("data", f64)), []float32{0.25, -0.75}, 1, "wav"},
		{"24-bit", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 24), chunk("data", s24)), []float32{0.5, -0.5, -1.0 / (1 << 23)}, 1, "wav"},
		{"20-bit in 24-bit container", buildRIFF("RIFF", -1, extensibleFmt(1, 16000, 24, 20, ksGUID(1)), chunk("data", s24)), []float32{0.5, -0.5, -1.0 / (1 << 23)}, 1, "wav"},
		{"12-bit PCM", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 12), chunk("data", pcm16(16384))), []float32{0.5}, 1, "wav"},
		{"extensible PCM", buildRIFF("RIFF", -1, extensibleFmt(1, 16000, 16, 16, ksGUID(1)), chunk("data", data)), want, 1, "wav"},
		{"extensible float", buildRIFF("RIFF", -1, extensibleFmt(1, 16000, 64, 64, ksGUID(3)), chunk("data", f64)), []float32{0.25, -0.75}, 1, "wav"},
		{"empty data", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("data", nil)), []float32{}, 1, "wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time: the decoder must not depend on reads
			// returning whole chunks.
			a, err := Decode(iotest.OneByteReader(bytes.NewReader(tt.in)))
			if err != nil {
				t.Fatal(err)
			}
			if a.Channels != tt.channels || a.SampleRate != 16000 || a.Format != tt.format {
				t.Errorf("got %d channels %d Hz %q, want %d channels 16000 Hz %q", a.Channels, a.SampleRate, a.Format, tt.channels, tt.format)
			}
			if len(a.Samples) != len(tt.want) {
				t.Fatalf("got %d samples %v, want %v", len(a.Samples), a.Samples, tt.want)
			}
			for i := range tt.want {
				if math.Abs(float64(a.Samples[i]-tt.want[i])) > 1e-7 {
					t.Errorf("sample %d = %g, want %g", i, a.Samples[i], tt.want[i])
				}
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("data", pcm16(1, 2, 3, 4)))
	flac, err := os.ReadFile(testutil.Path(t, "audio", "flac_s16.flac"))
	if err != nil {
		t.Fatal(err)
	}
	mp3, err := os.ReadFile(testutil.Path(t, "audio", "mp3_mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	badRate := fmtChunk(1, 1, 16000, 16)
	binary.LittleEndian.PutUint32(badRate.body[4:], 4_000_000_000)
	badAlign := fmtChunk(1, 2, 16000, 16)
	binary.LittleEndian.PutUint16(badAlign.body[12:], 3)
	tests := []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{"empty file", nil, ErrMalformed, "empty input"},
		{"text file", []byte("WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n"), ErrMalformed, "text file"},
		{"unknown binary", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, ErrUnsupportedFormat, "unknown format"},
		{"truncated RIFF header", good[:10], ErrMalformed, "truncated header"},
		{"truncated chunk header", good[:16], ErrMalformed, "truncated chunk header"},
		{"truncated fmt", good[:30], ErrMalformed, `"fmt " chunk claims 16 bytes`},
		{"truncated data", good[:len(good)-3], ErrMalformed, "data chunk claims 8 bytes but the input ends after 5"},
		{"no data chunk", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16)), ErrMalformed, "no data chunk"},
		{"no fmt chunk", buildRIFF("RIFF", -1), ErrMalformed, "no fmt chunk"},
		{"data before fmt", buildRIFF("RIFF", -1, chunk("data", pcm16(1)), fmtChunk(1, 1, 16000, 16)), ErrMalformed, "data chunk before the fmt chunk"},
		{"lying LIST size", buildRIFF("RIFF", -1, riffChunk{"LIST", []byte("INFO"), 0x7fffffff}, fmtChunk(1, 1, 16000, 16)), ErrMalformed, `chunk "LIST" claims 2147483647 bytes`},
		{"lying data size", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), riffChunk{"data", pcm16(1, 2), 0x7ffffffe}), ErrMalformed, "data chunk claims 2147483646 bytes but the input ends after 4"},
		{"huge fmt size", buildRIFF("RIFF", -1, riffChunk{"fmt ", nil, 0xfffffff0}), ErrMalformed, "fmt chunk of 4294967280 bytes"},
		{"short fmt", buildRIFF("RIFF", -1, chunk("fmt ", []byte{1, 0, 1, 0})), ErrMalformed, "fmt chunk of 4 bytes"},
		{"zero channels", buildRIFF("RIFF", -1, fmtChunk(1, 0, 16000, 16), chunk("data", nil)), ErrMalformed, "zero channels"},
		{"too many channels", buildRIFF("RIFF", -1, fmtChunk(1, 1000, 16000, 16), chunk("data", nil)), ErrMalformed, "1000 channels"},
		{"zero sample rate", buildRIFF("RIFF", -1, fmtChunk(1, 1, 0, 16), chunk("data", nil)), ErrMalformed, "sample rate 0 Hz"},
		{"absurd sample rate", buildRIFF("RIFF", -1, badRate, chunk("data", nil)), ErrMalformed, "sample rate 4000000000 Hz"},
		{"zero bits", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 0), chunk("data", nil)), ErrMalformed, "0-bit integer PCM"},
		{"48-bit PCM", buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 48), chunk("data", nil)), ErrMalformed, "48-bit integer PCM"},
		{"16-bit float", buildRIFF("RIFF", -1, fmtChunk(3, 1, 16000, 16), chunk("data", nil)), ErrMalformed, "16-bit IEEE float"},
		{"wrong block align", buildRIFF("RIFF", -1, badAlign, chunk("data", nil)), ErrMalformed, "block align 3"},
		{"partial frame", buildRIFF("RIFF", -1, fmtChunk(1, 2, 16000, 16), chunk("data", pcm16(1, 2, 3))), ErrMalformed, "inside a sample frame"},
		{"NaN float sample", buildRIFF("RIFF", -1, fmtChunk(3, 1, 16000, 32), chunk("data", binary.LittleEndian.AppendUint32(nil, 0x7fc00000))), ErrMalformed, "non-finite"},
		{"ADPCM", buildRIFF("RIFF", -1, fmtChunk(2, 1, 16000, 4), chunk("data", nil)), ErrUnsupportedFormat, "MS ADPCM"},
		{"extensible unknown GUID", buildRIFF("RIFF", -1, extensibleFmt(1, 16000, 16, 16, []byte("0123456789abcdef")), chunk("data", nil)), ErrUnsupportedFormat, "unknown sub-format GUID"},
		{"extensible short", buildRIFF("RIFF", -1, fmtChunk(wavExtensible, 1, 16000, 16), chunk("data", nil)), ErrMalformed, "WAVE_FORMAT_EXTENSIBLE fmt chunk of 16 bytes"},
		{"RF64 without ds64", buildRIFF("RF64", -1, fmtChunk(1, 1, 16000, 16)), ErrMalformed, "not ds64"},
		{"big-endian RIFX", append([]byte("RIFX\x00\x00\x00\x10WAVE"), 0), ErrUnsupportedFormat, "RIFX"},
		{"truncated FLAC header", flac[:20], ErrMalformed, "flac:"},
		{"truncated FLAC frames", flac[:len(flac)/2], ErrMalformed, "flac:"},
		{"FLAC magic only", []byte("fLaC"), ErrMalformed, "flac:"},
		{"truncated MP3 header", mp3[:3], ErrMalformed, "mp3:"},
		{"MP3 sync then garbage", []byte{0xff, 0xfb, 0x90, 0x64, 1, 2, 3}, ErrMalformed, "mp3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whatever the headers claim, memory stays near the buffers'
			// fixed size (64 KiB for reading, 64 KiB for conversion, 64 Ki
			// samples to start the output), whether or not the reader
			// tells its length.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			Decode(struct{ io.Reader }{bytes.NewReader(tt.in)})
			a, err := Decode(bytes.NewReader(tt.in))
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
				t.Errorf("decoding %d bytes twice allocated %d bytes", len(tt.in), alloc)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("got (%v, %v), want an error wrapping %v", a, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestDecodeFileErrors(t *testing.T) {
	if _, err := DecodeFile(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
	p := filepath.Join(t.TempDir(), "notes.wav")
	os.WriteFile(p, []byte("these are my notes\n"), 0o644)
	_, err := DecodeFile(p)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), p) {
		t.Errorf("text file: got %v, want ErrMalformed naming %s", err, p)
	}
}

// A reader that fails mid-way must surface its error, not a decode error.
func TestDecodeReaderError(t *testing.T) {
	in := buildRIFF("RIFF", -1, fmtChunk(1, 1, 16000, 16), chunk("data", pcm16(1, 2, 3, 4)))
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(in[:46]), iotest.ErrReader(boom))
	if _, err := Decode(r); !errors.Is(err, boom) {
		t.Errorf("got %v, want the reader's error", err)
	}
}
