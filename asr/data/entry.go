package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync"

	"github.com/x448/float16"
)

// A cache entry is one utterance's log-mel features in one file:
//
//	offset size
//	0      4    magic "ASRF"
//	4      2    format version (1)
//	6      2    id length in bytes (n)
//	8      4    frames
//	12     4    bands
//	16     8    source samples (at the source rate)
//	24     4    source sample rate
//	28     4    reserved (0)
//	32     8    source file size in bytes
//	40     8    source modification time (Unix nanoseconds)
//	48     8    dither seed (0: computed without dither)
//	56     4    reserved (0)
//	60     4    CRC-32C of bytes [0, 60) and [64, end)
//	64     n    id (UTF-8)
//	64+n   ...  features: frames x bands IEEE float16, little-endian, row-major
//
// Integers are little-endian. float16 keeps log-mel values (about -17 to
// +12) to within 0.01, far below the spread between utterances, at half the
// size of float32.
const (
	entryMagic   = "ASRF"
	entryVersion = 1
	entryHeader  = 64
	maxEntryID   = 4096
	maxFrames    = 1 << 24
	maxBands     = 1 << 12
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptCache is wrapped by errors for a cache entry that is truncated,
// has a bad checksum or an impossible header. The cache rebuilds such an
// entry from the audio instead of using it.
var ErrCorruptCache = errors.New("corrupt feature cache entry")

// entryMeta is what an entry records besides the features.
type entryMeta struct {
	ID          string
	Frames      int
	Bands       int
	Samples     int64
	SourceRate  int
	SourceSize  int64
	SourceMtime int64
	Seed        uint64
}

// Duration returns the source audio's length in seconds.
func (m entryMeta) Duration() float64 {
	if m.SourceRate <= 0 {
		return 0
	}
	return float64(m.Samples) / float64(m.SourceRate)
}

// encodeEntry serialises meta and data (Frames x Bands values).
func encodeEntry(meta entryMeta, data []float32) ([]byte, error) {
	if len(meta.ID) > maxEntryID {
		return nil, fmt.Errorf("cache: id of %d bytes is too long", len(meta.ID))
	}
	if meta.Frames*meta.Bands != len(data) || meta.Frames >= maxFrames || meta.Bands >= maxBands {
		return nil, fmt.Errorf("cache: %d values for %d frames x %d bands", len(data), meta.Frames, meta.Bands)
	}
	b := make([]byte, entryHeader+len(meta.ID)+2*len(data))
	copy(b, entryMagic)
	le := binary.LittleEndian
	le.PutUint16(b[4:], entryVersion)
	le.PutUint16(b[6:], uint16(len(meta.ID)))
	le.PutUint32(b[8:], uint32(meta.Frames))
	le.PutUint32(b[12:], uint32(meta.Bands))
	le.PutUint64(b[16:], uint64(meta.Samples))
	le.PutUint32(b[24:], uint32(meta.SourceRate))
	le.PutUint64(b[32:], uint64(meta.SourceSize))
	le.PutUint64(b[40:], uint64(meta.SourceMtime))
	le.PutUint64(b[48:], meta.Seed)
	copy(b[entryHeader:], meta.ID)
	p := b[entryHeader+len(meta.ID):]
	for i, v := range data {
		h := floatToHalf(v)
		p[2*i], p[2*i+1] = byte(h), byte(h>>8)
	}
	le.PutUint32(b[60:], entryCRC(b))
	return b, nil
}

func entryCRC(b []byte) uint32 {
	c := crc32.Update(0, crcTable, b[:60])
	return crc32.Update(c, crcTable, b[entryHeader:])
}

// parseEntryHeader decodes the fixed header and id of b (at least the
// header; the payload need not be present).
func parseEntryHeader(b []byte) (entryMeta, error) {
	var m entryMeta
	if len(b) < entryHeader || string(b[:4]) != entryMagic {
		return m, fmt.Errorf("%w: not a feature cache entry", ErrCorruptCache)
	}
	le := binary.LittleEndian
	if v := le.Uint16(b[4:]); v != entryVersion {
		return m, fmt.Errorf("%w: format version %d, want %d", ErrCorruptCache, v, entryVersion)
	}
	n := int(le.Uint16(b[6:]))
	m.Frames = int(le.Uint32(b[8:]))
	m.Bands = int(le.Uint32(b[12:]))
	m.Samples = int64(le.Uint64(b[16:]))
	m.SourceRate = int(le.Uint32(b[24:]))
	m.SourceSize = int64(le.Uint64(b[32:]))
	m.SourceMtime = int64(le.Uint64(b[40:]))
	m.Seed = le.Uint64(b[48:])
	if n > maxEntryID || m.Frames >= maxFrames || m.Bands >= maxBands || m.Samples < 0 {
		return m, fmt.Errorf("%w: impossible header", ErrCorruptCache)
	}
	if len(b) < entryHeader+n {
		return m, fmt.Errorf("%w: truncated header", ErrCorruptCache)
	}
	m.ID = string(b[entryHeader : entryHeader+n])
	return m, nil
}

// decodeEntry checks b's length and checksum and returns its metadata and
// features, converted to float32 into dst (grown as needed).
func decodeEntry(b []byte, dst []float32) (entryMeta, []float32, error) {
	m, err := parseEntryHeader(b)
	if err != nil {
		return m, dst, err
	}
	off := entryHeader + len(m.ID)
	n := m.Frames * m.Bands
	if len(b) != off+2*n {
		return m, dst, fmt.Errorf("%w: %d bytes, header says %d", ErrCorruptCache, len(b), off+2*n)
	}
	if got, want := entryCRC(b), binary.LittleEndian.Uint32(b[60:]); got != want {
		return m, dst, fmt.Errorf("%w: checksum %08x, want %08x", ErrCorruptCache, got, want)
	}
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	halfToFloat(dst, b[off:])
	return m, dst, nil
}

// readEntryMeta reads only the header and id of the entry at path.
func readEntryMeta(path string) (entryMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return entryMeta{}, err
	}
	defer f.Close()
	buf := make([]byte, entryHeader+256)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF {
		if err == io.EOF {
			return entryMeta{}, fmt.Errorf("%w: empty file", ErrCorruptCache)
		}
		return entryMeta{}, err
	}
	buf = buf[:n]
	m, err := parseEntryHeader(buf)
	if err != nil && n == len(buf) && len(buf) >= entryHeader {
		// A long id: read the rest of it.
		idLen := int(binary.LittleEndian.Uint16(buf[6:]))
		if idLen <= maxEntryID && entryHeader+idLen > n {
			more := make([]byte, entryHeader+idLen)
			copy(more, buf)
			if _, err := io.ReadFull(f, more[n:]); err != nil {
				return m, fmt.Errorf("%w: truncated header", ErrCorruptCache)
			}
			return parseEntryHeader(more)
		}
	}
	return m, err
}

// floatToHalf converts f to IEEE 754 binary16, rounding to nearest even
// (overflow gives ±Inf, NaN stays NaN).
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 31:
		if b&0x7fffffff > 0x7f800000 {
			return sign | 0x7e00 // NaN
		}
		return sign | 0x7c00 // Inf, or too large
	case exp <= 0: // subnormal half, or zero
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		r := mant >> shift
		rem, half := mant&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || rem == half && r&1 == 1 {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++ // a carry into the exponent rounds up to the next power or to Inf
	}
	return sign | uint16(r)
}

var (
	halfOnce  sync.Once
	halfTable *[1 << 16]float32
)

// halfToFloat converts little-endian float16 values in src to dst.
func halfToFloat(dst []float32, src []byte) {
	halfOnce.Do(func() {
		t := new([1 << 16]float32)
		for i := range t {
			t[i] = float16.Frombits(uint16(i)).Float32()
		}
		halfTable = t
	})
	t := halfTable
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = t[uint16(src[2*i])|uint16(src[2*i+1])<<8]
	}
}
