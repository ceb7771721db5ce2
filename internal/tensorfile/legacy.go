package tensorfile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
)

// The ASRKTF01 format, which asrkit wrote before it used safetensors
// (model directories of format_version 1, such as the bundled model): read
// only. Layout (integers little-endian):
//
//	"ASRKTF01"                 8-byte magic
//	header length              uint32
//	header                     JSON: {"tensors": [{"name", "dtype", "encoding", "shape", "offset", "length", "crc32"}]}
//	header CRC-32 (IEEE)       uint32
//	data                       tensor payloads; offsets are relative to the start of data
//
// A float32 tensor may be stored with encoding "float16".

const magic = "ASRKTF01"

type entry struct {
	Name     string `json:"name"`
	DType    string `json:"dtype"`
	Encoding string `json:"encoding,omitempty"`
	Shape    []int  `json:"shape"`
	Offset   int64  `json:"offset"`
	Length   int64  `json:"length"`
	CRC32    uint32 `json:"crc32"`
}

type header struct {
	Tensors []entry `json:"tensors"`
}

// readLegacy parses a whole ASRKTF01 file held in data.
func readLegacy(data []byte) ([]Tensor, error) {
	if len(data) < len(magic)+8 {
		return nil, fmt.Errorf("%w: ASRKTF01 file too short", ErrCorrupt)
	}
	hl := int64(binary.LittleEndian.Uint32(data[len(magic):]))
	start := int64(len(magic) + 4)
	if hl > maxHeader || start+hl+4 > int64(len(data)) {
		return nil, fmt.Errorf("%w: header length %d exceeds file size %d", ErrCorrupt, hl, len(data))
	}
	hb := data[start : start+hl]
	if crc32.ChecksumIEEE(hb) != binary.LittleEndian.Uint32(data[start+hl:]) {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	body := data[start+hl+4:]
	out := make([]Tensor, 0, len(h.Tensors))
	for _, e := range h.Tensors {
		es := elemSize[e.DType]
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
				return nil, fmt.Errorf("%w: tensor %q has invalid shape %v", ErrCorrupt, e.Name, e.Shape)
			}
			n *= int64(d)
		}
		if es == 0 || n > int64(len(body))/int64(min(es, 2)) {
			// Unknown dtype, or more elements than the body could hold
			// (which also keeps n*es from overflowing).
			return nil, fmt.Errorf("%w: tensor %q: dtype %q, shape %v does not fit the %d-byte file body",
				ErrCorrupt, e.Name, e.DType, e.Shape, len(body))
		}
		want := n * int64(es)
		if e.Encoding == "float16" {
			want = n * 2
		}
		if e.Length != want || e.Offset < 0 || e.Offset > int64(len(body))-e.Length {
			return nil, fmt.Errorf("%w: tensor %q: bad dtype/extent (dtype %q, %d bytes at %d, file body %d bytes)",
				ErrCorrupt, e.Name, e.DType, e.Length, e.Offset, len(body))
		}
		p := body[e.Offset : e.Offset+e.Length]
		if crc32.ChecksumIEEE(p) != e.CRC32 {
			return nil, fmt.Errorf("%w: tensor %q: checksum mismatch", ErrCorrupt, e.Name)
		}
		t := Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape}
		switch e.Encoding {
		case "":
			t.Data = append([]byte(nil), p...)
		case "float16":
			if e.DType != "float32" {
				return nil, fmt.Errorf("%w: tensor %q: float16 encoding of %s", ErrCorrupt, e.Name, e.DType)
			}
			t.Data = fromHalf(p)
		default:
			return nil, fmt.Errorf("%w: tensor %q: unknown encoding %q", ErrCorrupt, e.Name, e.Encoding)
		}
		out = append(out, t)
	}
	return out, nil
}
