package data

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/x448/float16"
)

func TestEntryRoundTrip(t *testing.T) {
	data := make([]float32, 7*3)
	for i := range data {
		data[i] = float32(math.Log(float64(i)+1e-7)) * 1.37
	}
	data[0] = float32(math.Log(math.Ldexp(1, -24))) // digital silence
	meta := entryMeta{ID: "LJ001-0001", Frames: 7, Bands: 3, Samples: 12345, SourceRate: 22050, SourceSize: 24734, SourceMtime: 1700000000123456789, Seed: 99}
	b, err := encodeEntry(meta, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != entryHeader+len(meta.ID)+2*len(data) {
		t.Errorf("entry is %d bytes", len(b))
	}
	got, vals, err := decodeEntry(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != meta {
		t.Errorf("meta %+v, want %+v", got, meta)
	}
	for i := range data {
		// float16 has an 11-bit significand: relative error <= 2^-11.
		if d := math.Abs(float64(vals[i] - data[i])); d > math.Abs(float64(data[i]))/2048+1e-7 {
			t.Errorf("value %d: %v, want %v", i, vals[i], data[i])
		}
	}
	if math.Abs(meta.Duration()-12345.0/22050) > 1e-12 {
		t.Errorf("duration %v", meta.Duration())
	}

	p := filepath.Join(t.TempDir(), "e.lmf")
	os.WriteFile(p, b, 0o644)
	hm, err := readEntryMeta(p)
	if err != nil || hm != meta {
		t.Errorf("readEntryMeta: %+v %v", hm, err)
	}

	corrupt := map[string][]byte{
		"empty":        nil,
		"truncated":    b[:len(b)-1],
		"header only":  b[:entryHeader],
		"flipped data": flip(b, len(b)-3),
		"flipped meta": flip(b, 20),
		"flipped id":   flip(b, entryHeader+1),
		"bad magic":    flip(b, 0),
		"extra byte":   append(append([]byte(nil), b...), 0),
	}
	for name, c := range corrupt {
		if _, _, err := decodeEntry(c, nil); !errors.Is(err, ErrCorruptCache) {
			t.Errorf("%s: err = %v, want ErrCorruptCache", name, err)
		}
	}
	if _, err := encodeEntry(entryMeta{ID: "x", Frames: 2, Bands: 2}, make([]float32, 3)); err == nil {
		t.Error("wrong data length accepted")
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x10
	return c
}

func TestHalfToFloatSpecials(t *testing.T) {
	src := []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x00, 0x01, 0x00}
	dst := make([]float32, 5)
	halfToFloat(dst, src)
	want := []float32{1, -2, 65504, 0, 5.960464477539063e-08}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("half %d = %v, want %v", i, dst[i], want[i])
		}
	}
}

// TestFloatToHalf compares the converter with github.com/x448/float16 (an
// independent implementation) on a spread of float32 bit patterns, all the
// values near half-precision boundaries, and the specials.
func TestFloatToHalf(t *testing.T) {
	check := func(bits uint32) {
		f := math.Float32frombits(bits)
		got, want := floatToHalf(f), float16.Fromfloat32(f).Bits()
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %08x -> %04x", bits, got)
			}
			return
		}
		if got != want {
			t.Fatalf("%g (%08x): got %04x, want %04x", f, bits, got, want)
		}
	}
	for b := uint64(0); b < 1<<32; b += 65521 {
		check(uint32(b))
	}
	for h := 0; h < 1<<16; h++ {
		f := float16.Frombits(uint16(h)).Float32()
		b := math.Float32bits(f)
		for d := uint32(0); d < 3; d++ {
			check(b + d<<12)
			check(b - d<<12)
			check(b + 1<<12 + d)
		}
	}
}
