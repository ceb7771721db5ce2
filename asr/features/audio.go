package features

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"
)

// Limits on what the decoders accept. They reject headers that no real
// recording has, before anything is allocated from them.
const (
	// MinSampleRate and MaxSampleRate bound the sample rates Decode accepts.
	MinSampleRate = 1000
	MaxSampleRate = 1_000_000
	// MaxChannels bounds the number of channels Decode accepts.
	MaxChannels = 256
)

// Audio is decoded audio: mono samples in [-1, 1] and what the source was.
type Audio struct {
	// Samples is the mono signal: the mean of the source's channels, scaled
	// to [-1, 1] (integer formats) or as stored (float formats).
	Samples []float32
	// SampleRate is the number of samples per second.
	SampleRate int
	// Channels is the number of channels in the source, before the downmix.
	Channels int
	// Format names the source format: "wav", "rf64", "flac" or "mp3".
	Format string
}

// Duration returns the length of the audio.
func (a *Audio) Duration() time.Duration {
	if a == nil || a.SampleRate <= 0 {
		return 0
	}
	return time.Duration(float64(len(a.Samples)) / float64(a.SampleRate) * float64(time.Second))
}

// DecodeFile decodes the audio file at path; see [Decode]. Errors name the
// file, and the conversion hint of an unsupported format uses its real name.
func DecodeFile(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := Decode(f)
	if err != nil {
		if fe, ok := err.(*FormatError); ok {
			fe.Path = path
			return nil, fe
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Decode reads a whole audio stream and returns it as mono float32 samples
// (an [AudioReader] gives them a block at a time instead, for audio too long
// to hold in memory).
// The format is recognised by its magic bytes, whatever the file name says:
//
//   - WAV (RIFF/WAVE, and RF64/BW64 for files over 4 GiB): integer PCM of 1 to
//     32 bits, IEEE float 32/64, A-law, µ-law, WAVE_FORMAT_EXTENSIBLE (its
//     sub-format GUID is checked), any number of channels, chunks in any order
//     before the data, odd-size chunks with their padding byte, and the data
//     size 0 or 0xFFFFFFFF that streaming writers leave (read to the end).
//   - FLAC, 4 to 32 bits, any rate and channel count.
//   - MP3 (MPEG-1/2/2.5 layer III).
//
// Other formats that it recognises (Ogg Vorbis/Opus, MP4/M4A, AIFF, WebM,
// AAC, ...) give a [*FormatError] (wrapping [ErrUnsupportedFormat]) with the
// ffmpeg/sox command that converts the file. Input that is not audio, or that
// breaks its format, gives an error wrapping [ErrMalformed]. The decoders
// never allocate more than the input's real length calls for, whatever its
// headers claim.
func Decode(r io.Reader) (*Audio, error) {
	a, err := NewAudioReader(r)
	if err != nil {
		return nil, err
	}
	return a.ReadAll()
}

// Sniff names the format of audio that starts with head (at least its first
// 12 bytes; 64 is better): "wav", "rf64", "flac", "mp3", one of the formats
// that Decode does not decode ("ogg/vorbis", "ogg/opus", "mp4/m4a", "aiff",
// "webm/matroska", "aac/adts", ...), or "" when it is unknown.
func Sniff(head []byte) string {
	switch k := sniff(head); k {
	case "empty", "text":
		return ""
	default:
		return k
	}
}

func sniff(h []byte) string {
	if len(h) == 0 {
		return "empty"
	}
	has := func(off int, s string) bool { return len(h) >= off+len(s) && string(h[off:off+len(s)]) == s }
	switch {
	case (has(0, "RIFF") || has(0, "RIFX")) && has(8, "WAVE"):
		if has(0, "RIFX") {
			return "wav/big-endian (RIFX)"
		}
		return "wav"
	case (has(0, "RF64") || has(0, "BW64")) && has(8, "WAVE"):
		return "rf64"
	case (has(0, "RIFF") || has(0, "RF64")) && len(h) < 12:
		return "wav" // too short to tell: the WAV decoder reports the truncation
	case has(0, "RIFF") && has(8, "AVI "):
		return "avi"
	case has(0, "RIFF"):
		return "riff/" + printableID(string(h[8:12]))
	case has(0, "riff\x2e\x91\xcf\x11"):
		return "wave64"
	case has(0, "fLaC"):
		return "flac"
	case has(0, "ID3"):
		// ID3v2 tags precede MP3 (and sometimes FLAC or AAC) streams.
		return sniffAfterID3(h)
	case has(0, "OggS"):
		switch {
		case bytes.Contains(h, []byte("OpusHead")):
			return "ogg/opus"
		case bytes.Contains(h, []byte("\x01vorbis")):
			return "ogg/vorbis"
		case bytes.Contains(h, []byte("\x7fFLAC")):
			return "ogg/flac"
		case bytes.Contains(h, []byte("Speex")):
			return "ogg/speex"
		}
		return "ogg"
	case has(4, "ftyp"):
		switch {
		case has(8, "M4A"), has(8, "M4B"), has(8, "M4P"):
			return "mp4/m4a"
		case has(8, "qt  "):
			return "quicktime"
		case has(8, "3gp"), has(8, "3g2"):
			return "3gp"
		}
		return "mp4"
	case has(0, "FORM") && has(8, "AIFF"):
		return "aiff"
	case has(0, "FORM") && has(8, "AIFC"):
		return "aiff-c"
	case has(0, "\x1a\x45\xdf\xa3"):
		return "webm/matroska"
	case has(0, ".snd"):
		return "sun/au"
	case has(0, "caff"):
		return "caf"
	case has(0, "#!AMR"):
		return "amr"
	case has(0, "wvpk"):
		return "wavpack"
	case has(0, "MAC "):
		return "monkeys-audio"
	case has(0, "MThd"):
		return "midi"
	case has(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
		return "asf/wma"
	case has(0, "NIST_1A"):
		return "nist-sphere"
	}
	if len(h) >= 2 && h[0] == 0xff && h[1]&0xe0 == 0xe0 {
		if h[1]&0x06 == 0 { // layer bits 00: ADTS AAC, not MPEG audio
			return "aac/adts"
		}
		if mp3FrameHeaderOK(h) {
			return "mp3"
		}
	}
	if looksLikeText(h) {
		return "text"
	}
	return ""
}

func sniffAfterID3(h []byte) string {
	// The tag's size is a 28-bit syncsafe integer; what follows it is rarely
	// inside the 64 bytes we peeked, so an ID3 tag means MP3 unless proven
	// otherwise when the stream is decoded.
	return "mp3"
}

// mp3FrameHeaderOK checks the fields of an MPEG audio frame header that a
// random 0xFFE sync would get wrong.
func mp3FrameHeaderOK(h []byte) bool {
	if len(h) < 4 {
		return false
	}
	version := (h[1] >> 3) & 3
	layer := (h[1] >> 1) & 3
	bitrate := h[2] >> 4
	rate := (h[2] >> 2) & 3
	return version != 1 && layer != 0 && bitrate != 15 && bitrate != 0 && rate != 3
}

// looksLikeText reports whether h is plausibly the start of a text file:
// valid UTF-8 with no control characters but tab, newline, carriage return
// and form feed.
func looksLikeText(h []byte) bool {
	// The peek may have cut a multi-byte character in two.
	for i := 0; i < 3 && len(h) > 0 && !utf8.Valid(h); i++ {
		h = h[:len(h)-1]
	}
	if len(h) == 0 || !utf8.Valid(h) {
		return false
	}
	for _, c := range h {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
			return false
		}
	}
	return true
}

func preview(h []byte) string {
	s := string(h)
	if len(s) > 24 {
		s = s[:24]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return s
}

// remaining returns how many bytes r still holds when it can tell cheaply (a
// file, a bytes or strings reader), or -1. The decoders use it to size their
// output at once; a header's claims alone never size an allocation.
func remaining(r io.Reader) int64 {
	switch v := r.(type) {
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return st.Size() - pos
	case interface{ Len() int }:
		return int64(v.Len())
	}
	return -1
}

// le16, le32 and le64 read little-endian integers.
func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
