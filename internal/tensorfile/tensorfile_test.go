package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func sample() []Tensor {
	return []Tensor{
		FromFloat32s("model/dense/weights", []float32{1, -2.5, 3.25, 0, 1e-3, 65504}, 2, 3),
		{Name: "global_step", DType: "int64", Shape: nil, Data: []byte{7, 0, 0, 0, 0, 0, 0, 0}},
		{Name: "empty", DType: "float32", Shape: []int{0, 4}, Data: nil},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f16 := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, sample(), Options{Float16: f16}); err != nil {
			t.Fatal(err)
		}
		got, err := Read(buf.Bytes())
		if err != nil {
			t.Fatalf("float16=%v: %v", f16, err)
		}
		if len(got) != 3 || got[0].Name != "model/dense/weights" || !slices.Equal(got[0].Shape, []int{2, 3}) {
			t.Fatalf("float16=%v: got %+v", f16, got)
		}
		vals, err := got[0].Float32s()
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{1, -2.5, 3.25, 0, 1e-3, 65504}
		for i := range want {
			tol := 0.0
			if f16 {
				tol = math.Abs(float64(want[i])) * 1e-3
			}
			if math.Abs(float64(vals[i]-want[i])) > tol {
				t.Errorf("float16=%v: value %d = %v, want %v", f16, i, vals[i], want[i])
			}
		}
		if !bytes.Equal(got[1].Data, sample()[1].Data) || got[1].DType != "int64" {
			t.Errorf("int64 tensor changed: %+v", got[1])
		}
	}
}

func TestFloat16HalvesSize(t *testing.T) {
	big := FromFloat32s("w", make([]float32, 10000), 100, 100)
	var a, b bytes.Buffer
	Write(&a, []Tensor{big}, Options{})
	Write(&b, []Tensor{big}, Options{Float16: true})
	if b.Len() > a.Len()/2+200 {
		t.Errorf("float16 file %d bytes, float32 %d", b.Len(), a.Len())
	}
}

func TestCorruption(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipLast := slices.Clone(good)
	flipLast[len(flipLast)-30] ^= 0xff
	flipHeader := slices.Clone(good)
	flipHeader[20] ^= 0x01
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, this is not a tensor file at all")},
		{"truncated header", good[:20]},
		{"truncated body", good[:len(good)-5]},
		{"payload bit flip", flipLast},
		{"header bit flip", flipHeader},
		{"huge header length", append([]byte(magic), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.data)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read = %v, want ErrCorrupt", err)
			}
		})
	}
}

// craft builds a file around a hand-written header, with correct checksums
// (of the header and of each extent that lies inside the body), so that
// Read's consistency checks, not the checksums, must catch what is wrong.
func craft(entries []entry, body []byte) []byte {
	for i, e := range entries {
		if e.Offset >= 0 && e.Length >= 0 && e.Offset+e.Length <= int64(len(body)) {
			entries[i].CRC32 = crc32.ChecksumIEEE(body[e.Offset : e.Offset+e.Length])
		}
	}
	hb, _ := json.Marshal(header{Tensors: entries})
	out := append([]byte(magic), binary.LittleEndian.AppendUint32(nil, uint32(len(hb)))...)
	out = append(out, hb...)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(hb))
	return append(out, body...)
}

func TestInconsistentHeader(t *testing.T) {
	body := make([]byte, 16)
	for _, tt := range []struct {
		name string
		e    entry
	}{
		{"shape overflowing int64 bytes", entry{Name: "x", DType: "int64", Shape: []int{1 << 61}, Offset: 0, Length: 0}},
		{"shape larger than the body", entry{Name: "x", DType: "float32", Shape: []int{5}, Offset: 0, Length: 20}},
		{"negative length", entry{Name: "x", DType: "float32", Shape: []int{0}, Offset: 8, Length: -4}},
		{"negative offset", entry{Name: "x", DType: "float32", Shape: []int{1}, Offset: -4, Length: 4}},
		{"offset beyond the body", entry{Name: "x", DType: "float32", Shape: []int{1}, Offset: 1 << 62, Length: 4}},
		{"negative dimension", entry{Name: "x", DType: "float32", Shape: []int{-1}, Offset: 0, Length: 4}},
		{"unknown dtype", entry{Name: "x", DType: "complex7", Shape: []int{1}, Offset: 0, Length: 4}},
		{"float16 of an int", entry{Name: "x", DType: "int32", Encoding: "float16", Shape: []int{2}, Offset: 0, Length: 4}},
		{"unknown encoding", entry{Name: "x", DType: "float32", Encoding: "bf8", Shape: []int{1}, Offset: 0, Length: 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := Read(craft([]entry{tt.e}, body))
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read = %d tensors, %v; want ErrCorrupt", len(ts), err)
			}
		})
	}
	// The crafting itself is sound: a consistent header reads.
	if ts, err := Read(craft([]entry{{Name: "x", DType: "float32", Shape: []int{2, 2}, Offset: 0, Length: 16}}, body)); err != nil || len(ts) != 1 {
		t.Fatalf("consistent crafted file: %d tensors, %v", len(ts), err)
	}
}

func TestWriteValidates(t *testing.T) {
	bad := [][]Tensor{
		{{Name: "x", DType: "float32", Shape: []int{3}, Data: make([]byte, 8)}},
		{{Name: "x", DType: "strange", Shape: []int{1}, Data: make([]byte, 4)}},
		{FromFloat32s("x", []float32{1}, 1), FromFloat32s("x", []float32{1}, 1)},
	}
	for i, ts := range bad {
		if err := Write(&bytes.Buffer{}, ts, Options{}); err == nil {
			t.Errorf("case %d: Write succeeded", i)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.bin")
	if err := WriteFile(p, sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	// A failing write must leave the previous file intact and no temp files.
	bad := []Tensor{{Name: "x", DType: "float32", Shape: []int{3}, Data: make([]byte, 1)}}
	if err := WriteFile(p, bad, Options{}); err == nil {
		t.Fatal("WriteFile of an invalid tensor succeeded")
	}
	if _, err := ReadFile(p); err != nil {
		t.Errorf("previous file no longer readable: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (temp file left behind?)", len(entries))
	}
}
