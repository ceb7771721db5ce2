package features

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// mp3DecoderDelay is the delay of the MP3 synthesis filterbank in samples, as
// LAME, ffmpeg and every gapless player count it.
const mp3DecoderDelay = 529

// newMP3Reader decodes MPEG audio layer III with
// github.com/hajimehoshi/go-mp3 (pure Go). Like ffmpeg, it removes the
// Xing/Info frame, the encoder delay and the decoder delay from the start
// and the padding from the end when the file has a LAME tag (gapless
// information), so that times match the source; without one, only the
// decoder delay is removed.
func newMP3Reader(br *bufio.Reader) (a *AudioReader, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, malformed("mp3: corrupt stream (decoder panic: %v)", r)
		}
	}()
	info := mp3Probe(br)
	d, err := mp3.NewDecoder(br)
	if err != nil {
		return nil, malformed("mp3: %v", err)
	}
	rate := d.SampleRate()
	if rate < MinSampleRate || rate > MaxSampleRate {
		return nil, malformed("mp3: sample rate %d Hz", rate)
	}
	m := &mp3Data{dec: d, skip: mp3DecoderDelay, buf: make([]byte, 32<<10)}
	if info.infoFrame {
		m.skip += info.frameSamples
	}
	if info.lame {
		m.skip += info.delay
		m.trim = max(info.padding-mp3DecoderDelay, 0)
	}
	return &AudioReader{rate: rate, channels: info.channels, format: "mp3", frames: -1, capHint: 1 << 16, read: m.read}, nil
}

// mp3Data is the state of an MP3 reader: the samples decoded but not yet
// returned are held in hold, of which the last trim (the end padding) are
// only returned once more samples follow them.
type mp3Data struct {
	dec      *mp3.Decoder
	buf      []byte
	hold     []float32
	skip     int   // samples still to drop at the start
	trim     int   // samples to drop at the end
	decoded  int64 // samples decoded, dropped ones included
	returned int64
	eof      bool
}

func (m *mp3Data) read(dst []float32) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, malformed("mp3: corrupt stream (decoder panic: %v)", r)
		}
	}()
	for len(m.hold) <= m.trim && !m.eof {
		if err := m.fill(); err != nil {
			return 0, err
		}
	}
	avail := len(m.hold) - m.trim
	if avail <= 0 {
		if m.returned == 0 {
			return 0, malformed("mp3: no audio frames")
		}
		return 0, io.EOF
	}
	n = copy(dst, m.hold[:avail])
	m.hold = m.hold[:copy(m.hold, m.hold[n:])]
	m.returned += int64(n)
	return n, nil
}

// fill decodes the next block of the stream (always 16-bit little-endian
// stereo from the decoder) into hold.
func (m *mp3Data) fill() error {
	n, err := m.dec.Read(m.buf)
	for i := 0; i+4 <= n; i += 4 {
		l := int16(binary.LittleEndian.Uint16(m.buf[i:]))
		r := int16(binary.LittleEndian.Uint16(m.buf[i+2:]))
		m.decoded++
		if m.skip > 0 {
			m.skip--
			continue
		}
		m.hold = append(m.hold, (float32(l)+float32(r))/65536)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			m.eof = true
			return nil
		}
		return malformed("mp3: after sample %d: %v", m.decoded, err)
	}
	if n == 0 {
		return malformed("mp3: the decoder made no progress after sample %d", m.decoded)
	}
	return nil
}

// mp3Info is what the first frame of an MP3 stream says.
type mp3Info struct {
	channels       int
	frameSamples   int  // samples per frame and channel
	infoFrame      bool // the first frame is a Xing/Info frame, decoded as silence
	lame           bool // the Info frame has a LAME tag with delay and padding
	delay, padding int
}

// mp3Probe reads the first frame (after an ID3v2 tag) from the buffered input
// without consuming it: the channel mode and the gapless information.
func mp3Probe(br *bufio.Reader) mp3Info {
	h, _ := br.Peek(br.Size())
	off := 0
	if bytes.HasPrefix(h, []byte("ID3")) && len(h) >= 10 {
		off = 10 + (int(h[6]&0x7f)<<21 | int(h[7]&0x7f)<<14 | int(h[8]&0x7f)<<7 | int(h[9]&0x7f))
		if h[5]&0x10 != 0 {
			off += 10 // footer
		}
	}
	for i := off; i >= 0 && i+4 <= len(h); i++ {
		if h[i] == 0xff && h[i+1]&0xe0 == 0xe0 && mp3FrameHeaderOK(h[i:]) {
			return parseMP3Frame(h[i:])
		}
	}
	return mp3Info{channels: 2, frameSamples: 1152}
}

func parseMP3Frame(f []byte) mp3Info {
	mpeg1 := (f[1]>>3)&3 == 3
	info := mp3Info{channels: 2, frameSamples: 576}
	if mpeg1 {
		info.frameSamples = 1152
	}
	if f[3]>>6 == 3 {
		info.channels = 1
	}
	// Side information length, after the header and the optional CRC.
	off := 4
	if f[1]&1 == 0 {
		off += 2
	}
	switch {
	case mpeg1 && info.channels == 1:
		off += 17
	case mpeg1:
		off += 32
	case info.channels == 1:
		off += 9
	default:
		off += 17
	}
	if len(f) < off+8 {
		return info
	}
	if tag := string(f[off : off+4]); tag != "Xing" && tag != "Info" {
		return info
	}
	info.infoFrame = true
	flags := binary.BigEndian.Uint32(f[off+4:])
	p := off + 8
	for _, field := range []struct {
		bit  uint32
		size int
	}{{1, 4}, {2, 4}, {4, 100}, {8, 4}} {
		if flags&field.bit != 0 {
			p += field.size
		}
	}
	// The LAME tag: a 9-byte encoder string, ..., then 12 bits of delay and
	// 12 bits of padding at byte 21.
	if len(f) >= p+24 {
		d := f[p+21:]
		info.lame = true
		info.delay = int(d[0])<<4 | int(d[1])>>4
		info.padding = int(d[1]&0x0f)<<8 | int(d[2])
	}
	return info
}
