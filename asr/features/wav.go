package features

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV format codes (wFormatTag, or the first two bytes of the
// WAVE_FORMAT_EXTENSIBLE sub-format GUID).
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavExtensible = 0xfffe
)

// ksGUIDSuffix is the common tail of the KSDATAFORMAT_SUBTYPE_* GUIDs
// (xxxxxxxx-0000-0010-8000-00aa00389b71) as stored in a WAV file.
var ksGUIDSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

// wavFmt is a validated fmt chunk.
type wavFmt struct {
	code       uint16 // wavPCM, wavFloat, wavALaw or wavMuLaw (extensible resolved)
	channels   int
	rate       int
	blockAlign int // bytes per frame of all channels
	width      int // bytes per sample of one channel (the container)
}

// newWAVReader parses a WAV header up to its data chunk and returns a
// reader of the data.
func newWAVReader(br *bufio.Reader, hint int64) (*AudioReader, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, malformed("wav: truncated header (%d of 12 bytes)", n)
	}
	format := "wav"
	rf64 := string(hdr[:4]) != "RIFF"
	var ds64Data uint64 // RF64 data size from the ds64 chunk
	if rf64 {
		format = "rf64"
	}
	var f *wavFmt
	first := true
	for {
		var ch [8]byte
		n, err := io.ReadFull(br, ch[:])
		if err != nil {
			if n == 0 {
				if f == nil {
					return nil, malformed("%s: no fmt chunk", format)
				}
				return nil, malformed("%s: no data chunk", format)
			}
			return nil, malformed("%s: truncated chunk header (%d of 8 bytes)", format, n)
		}
		id, size := string(ch[:4]), le32(ch[4:])
		switch {
		case rf64 && first && id != "ds64":
			return nil, malformed("%s: the first chunk is %q, not ds64", format, id)
		case id == "ds64":
			if size < 24 || size > 1<<16 {
				return nil, malformed("%s: ds64 chunk of %d bytes (want at least 24)", format, size)
			}
			b, err := readChunk(br, id, size)
			if err != nil {
				return nil, err
			}
			ds64Data = le64(b[8:16])
		case id == "fmt ":
			if f != nil {
				return nil, malformed("wav: two fmt chunks")
			}
			if size < 16 || size > 1<<16 {
				return nil, malformed("wav: fmt chunk of %d bytes (want 16 to 65536)", size)
			}
			b, err := readChunk(br, id, size)
			if err != nil {
				return nil, err
			}
			if f, err = parseWAVFmt(b); err != nil {
				return nil, err
			}
		case id == "data":
			if f == nil {
				return nil, malformed("wav: data chunk before the fmt chunk")
			}
			limit := int64(size)
			switch {
			case rf64 && size == 0xffffffff:
				if ds64Data > math.MaxInt64 {
					return nil, malformed("rf64: ds64 data size %d", ds64Data)
				}
				limit = int64(ds64Data)
			case size == 0 || size == 0xffffffff:
				limit = -1 // streaming writer: the data runs to the end
			}
			return newWAVData(br, f, format, limit, hint), nil
		default:
			// LIST, fact, cue, bext, JUNK, ...: skip with the padding byte.
			skip := int64(size) + int64(size&1)
			if m, err := io.CopyN(io.Discard, br, skip); err != nil {
				return nil, malformed("wav: chunk %q claims %d bytes but the input ends after %d", printableID(id), size, m)
			}
		}
		first = false
	}
}

// readChunk reads a small chunk body and its padding byte.
func readChunk(br *bufio.Reader, id string, size uint32) ([]byte, error) {
	b := make([]byte, int(size)+int(size&1))
	n, err := io.ReadFull(br, b)
	if err != nil && !(size&1 == 1 && n == int(size)) { // a missing final pad byte is harmless
		return nil, malformed("wav: %q chunk claims %d bytes but the input ends after %d", id, size, n)
	}
	return b[:size], nil
}

func printableID(id string) string {
	for _, c := range []byte(id) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("% x", id)
		}
	}
	return id
}

func parseWAVFmt(b []byte) (*wavFmt, error) {
	code := le16(b[0:])
	f := &wavFmt{
		code:       code,
		channels:   int(le16(b[2:])),
		rate:       int(le32(b[4:])),
		blockAlign: int(le16(b[12:])),
	}
	bits := int(le16(b[14:]))
	if code == wavExtensible {
		if len(b) < 40 || le16(b[16:]) < 22 {
			return nil, malformed("wav: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes (want 40)", len(b))
		}
		guid := b[24:40]
		if [14]byte(guid[2:]) != ksGUIDSuffix {
			return nil, fmt.Errorf("%w: wav: WAVE_FORMAT_EXTENSIBLE with unknown sub-format GUID %x (not a KSDATAFORMAT_SUBTYPE)", ErrUnsupportedFormat, guid)
		}
		f.code = le16(guid)
		if valid := int(le16(b[18:])); valid > bits {
			return nil, malformed("wav: %d valid bits in a %d-bit container", valid, bits)
		}
	}
	switch {
	case f.channels == 0:
		return nil, malformed("wav: zero channels")
	case f.channels > MaxChannels:
		return nil, malformed("wav: %d channels (at most %d)", f.channels, MaxChannels)
	case f.rate < MinSampleRate || f.rate > MaxSampleRate:
		return nil, malformed("wav: sample rate %d Hz (want %d to %d)", f.rate, MinSampleRate, MaxSampleRate)
	}
	switch f.code {
	case wavPCM:
		if bits < 1 || bits > 32 {
			return nil, malformed("wav: %d-bit integer PCM (want 1 to 32 bits)", bits)
		}
	case wavFloat:
		if bits != 32 && bits != 64 {
			return nil, malformed("wav: %d-bit IEEE float (want 32 or 64)", bits)
		}
	case wavALaw, wavMuLaw:
		if bits != 8 {
			return nil, malformed("wav: %d-bit G.711 (want 8)", bits)
		}
	default:
		return nil, &FormatError{Format: fmt.Sprintf("wav with codec 0x%04x (%s)", f.code, wavCodecName(f.code))}
	}
	// Samples of a width that is not a whole number of bytes are stored
	// left-justified in whole bytes.
	f.width = (bits + 7) / 8
	if f.blockAlign != f.channels*f.width {
		return nil, malformed("wav: block align %d for %d channels of %d bits (want %d)", f.blockAlign, f.channels, bits, f.channels*f.width)
	}
	return f, nil
}

func wavCodecName(code uint16) string {
	switch code {
	case 0x0002:
		return "MS ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0050:
		return "MPEG"
	case 0x0055:
		return "MP3"
	case 0x0161, 0x0162, 0x0163:
		return "WMA"
	case 0x2000:
		return "AC-3"
	}
	return "unknown codec"
}

// wavData reads the sample frames of a data chunk: limit bytes, or to the
// end of the input when limit < 0.
type wavData struct {
	br          *bufio.Reader
	f           *wavFmt
	limit, read int64
	buf         []byte
	pending     int // bytes of a partial frame kept at the start of buf
	frame       int64
}

// newWAVData returns the reader of a data chunk. Its Length is what the
// chunk size says, bounded by the input's real length when known (hint,
// bytes left in the whole input, or -1); capHint, what ReadAll allocates
// at once, is never sized from a header's claim alone.
func newWAVData(br *bufio.Reader, f *wavFmt, format string, limit, hint int64) *AudioReader {
	bytes := int64(1<<16) * int64(f.blockAlign)
	frames := int64(-1)
	switch {
	case hint >= 0 && limit >= 0:
		bytes = min(limit, hint)
		frames = bytes / int64(f.blockAlign)
	case hint >= 0:
		bytes = hint
		frames = bytes / int64(f.blockAlign)
	case limit >= 0:
		bytes = min(limit, bytes)
		frames = limit / int64(f.blockAlign)
	}
	d := &wavData{br: br, f: f, limit: limit, buf: make([]byte, (64<<10)/f.blockAlign*f.blockAlign+f.blockAlign)}
	return &AudioReader{rate: f.rate, channels: f.channels, format: format, frames: frames,
		capHint: int(bytes / int64(f.blockAlign)), read: d.readFrames}
}

// readFrames reads and downmixes up to len(dst) frames.
func (d *wavData) readFrames(dst []float32) (int, error) {
	ba := d.f.blockAlign
	for {
		if d.limit >= 0 && d.read >= d.limit {
			if d.pending != 0 {
				return 0, malformed("wav: data ends inside a sample frame (%d bytes of a %d-byte frame)", d.pending, ba)
			}
			return 0, io.EOF
		}
		frames := min(len(dst), len(d.buf)/ba-1)
		want := max(frames*ba-d.pending, 1)
		if d.limit >= 0 && int64(want) > d.limit-d.read {
			want = int(d.limit - d.read)
		}
		n, err := io.ReadFull(d.br, d.buf[d.pending:d.pending+want])
		d.read += int64(n)
		n += d.pending
		whole := n / ba * ba
		out, cerr := appendFrames(dst[:0], d.buf[:whole], d.f, d.frame)
		if cerr != nil {
			return 0, cerr
		}
		d.frame += int64(len(out))
		d.pending = copy(d.buf, d.buf[whole:n])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return len(out), err
			}
			switch {
			case d.limit >= 0:
				err = malformed("wav: data chunk claims %d bytes but the input ends after %d (truncated file?)", d.limit, d.read)
			case d.pending != 0:
				err = malformed("wav: data ends inside a sample frame (%d bytes of a %d-byte frame)", d.pending, ba)
			default:
				err = io.EOF
			}
			return len(out), err
		}
		if len(out) > 0 {
			return len(out), nil
		}
	}
}

// appendFrames converts whole frames of interleaved samples in b to mono
// float32 and appends them to out; first is the number of the first frame,
// for messages.
func appendFrames(out []float32, b []byte, f *wavFmt, first int64) ([]float32, error) {
	ch, w := f.channels, f.width
	frames := len(b) / f.blockAlign
	start := len(out)
	if cap(out)-start >= frames {
		out = out[:start+frames] // every sample is written below
	} else {
		out = append(out, make([]float32, frames)...)
	}
	dst := out[start:]
	var sample func(p []byte) float64
	switch {
	case f.code == wavPCM && w == 1:
		sample = func(p []byte) float64 { return (float64(p[0]) - 128) / 128 }
	case f.code == wavPCM && w == 2:
		if ch == 1 { // the common case, without a call per sample
			for i := range dst {
				dst[i] = float32(int16(le16(b[2*i:]))) / 32768
			}
			return out, nil
		}
		sample = func(p []byte) float64 { return float64(int16(le16(p))) / 32768 }
	case f.code == wavPCM && w == 3:
		sample = func(p []byte) float64 {
			return float64(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24)>>8) / (1 << 23)
		}
	case f.code == wavPCM && w == 4:
		sample = func(p []byte) float64 { return float64(int32(le32(p))) / (1 << 31) }
	case f.code == wavFloat && w == 4:
		sample = func(p []byte) float64 { return float64(math.Float32frombits(le32(p))) }
	case f.code == wavFloat && w == 8:
		sample = func(p []byte) float64 { return math.Float64frombits(le64(p)) }
	case f.code == wavALaw:
		sample = func(p []byte) float64 { return float64(alaw[p[0]]) / 32768 }
	case f.code == wavMuLaw:
		sample = func(p []byte) float64 { return float64(mulaw[p[0]]) / 32768 }
	default:
		return nil, malformed("wav: codec 0x%04x with %d-byte samples", f.code, w)
	}
	inv := 1 / float64(ch)
	for i := range dst {
		p := b[i*f.blockAlign:]
		var s float64
		for c := 0; c < ch; c++ {
			s += sample(p[c*w:])
		}
		// A finite 64-bit sample beyond float32's range would become ±Inf
		// here, so the check is on the converted value.
		v := float32(s * inv)
		if f64 := float64(v); math.IsNaN(f64) || math.IsInf(f64, 0) {
			return nil, malformed("wav: non-finite float sample (or one beyond float32's range) at frame %d", first+int64(i))
		}
		dst[i] = v
	}
	return out, nil
}

// G.711 expansion tables (ITU-T G.711), to 16-bit linear.
var alaw, mulaw = g711Tables()

func g711Tables() (a, u [256]int16) {
	for i := range 256 {
		// A-law
		v := i ^ 0x55
		t := (v & 0x0f) << 4
		seg := (v & 0x70) >> 4
		switch seg {
		case 0:
			t += 8
		case 1:
			t += 0x108
		default:
			t += 0x108
			t <<= seg - 1
		}
		if v&0x80 == 0 {
			t = -t
		}
		a[i] = int16(t)
		// µ-law
		m := ^i & 0xff
		t = ((m & 0x0f) << 3) + 0x84
		t <<= (m & 0x70) >> 4
		if m&0x80 != 0 {
			u[i] = int16(0x84 - t)
		} else {
			u[i] = int16(t - 0x84)
		}
	}
	return a, u
}
