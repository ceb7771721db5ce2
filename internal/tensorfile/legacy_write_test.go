package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"testing"
)

// writeLegacy writes tensors to w in the ASRKTF01 format (tests use it to
// make files of the old format).
func writeLegacy(w io.Writer, tensors []Tensor, opts Options) error {
	var h header
	payloads := make([][]byte, len(tensors))
	var off int64
	seen := map[string]bool{}
	for i, t := range tensors {
		if seen[t.Name] {
			return fmt.Errorf("tensorfile: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		es := elemSize[t.DType]
		if es == 0 {
			return fmt.Errorf("tensorfile: tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		if len(t.Data) != es*t.Size() {
			return fmt.Errorf("tensorfile: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		e := entry{Name: t.Name, DType: t.DType, Shape: append([]int{}, t.Shape...)}
		p := t.Data
		if opts.Float16 && t.DType == "float32" {
			e.Encoding = "float16"
			p = toHalf(t.Data)
		}
		e.Offset, e.Length, e.CRC32 = off, int64(len(p)), crc32.ChecksumIEEE(p)
		off += e.Length
		payloads[i] = p
		h.Tensors = append(h.Tensors, e)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	var pre bytes.Buffer
	pre.WriteString(magic)
	binary.Write(&pre, binary.LittleEndian, uint32(len(hb)))
	pre.Write(hb)
	binary.Write(&pre, binary.LittleEndian, crc32.ChecksumIEEE(hb))
	if _, err := w.Write(pre.Bytes()); err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	for _, p := range payloads {
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("tensorfile: %w", err)
		}
	}
	return nil
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

func TestInconsistentLegacyHeader(t *testing.T) {
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
