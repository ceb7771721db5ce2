// Package tensorfile reads and writes asrkit's tensor container: the file that
// holds a checkpoint's weights and optimizer state.
//
// Layout (all integers little-endian):
//
//	"ASRKTF01"                 8-byte magic
//	header length              uint32
//	header                     JSON: {"tensors": [{"name", "dtype", "encoding", "shape", "offset", "length", "crc32"}]}
//	header CRC-32 (IEEE)       uint32
//	data                       tensor payloads; offsets are relative to the start of data
//
// Every payload carries its own CRC-32, checked when the file is read, so a
// truncated or corrupted file is reported instead of loaded. A float32 tensor
// may be stored with encoding "float16" (half the size, used for exported
// models); Read converts it back to float32.
package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/x448/float16"
)

const magic = "ASRKTF01"

// maxHeader bounds the header so a corrupt length cannot trigger a huge allocation.
const maxHeader = 64 << 20

// ErrCorrupt is returned (wrapped) when a file is truncated, has a bad checksum
// or an inconsistent header.
var ErrCorrupt = errors.New("corrupt tensor file")

// Tensor is one named array in row-major order. Data holds the raw
// little-endian bytes of DType.
type Tensor struct {
	Name  string
	DType string // "float32", "float64", "int32", "int64", "uint64", "bool", ...
	Shape []int
	Data  []byte
}

// Size returns the number of elements of the tensor.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s returns the data of a float32 tensor as a new slice.
func (t Tensor) Float32s() ([]float32, error) {
	if t.DType != "float32" {
		return nil, fmt.Errorf("tensor %q is %s, not float32", t.Name, t.DType)
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// FromFloat32s builds a float32 tensor.
func FromFloat32s(name string, data []float32, shape ...int) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: "float32", Shape: shape, Data: b}
}

var elemSize = map[string]int{
	"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
	"int32": 4, "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8,
	"complex64": 8, "complex128": 16,
}

// ElemSize returns the byte size of one element of dtype, or 0 if unknown.
func ElemSize(dtype string) int { return elemSize[dtype] }

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

// Options controls Write.
type Options struct {
	// Float16 stores float32 tensors as IEEE half precision.
	Float16 bool
}

// Write writes tensors to w.
func Write(w io.Writer, tensors []Tensor, opts Options) error {
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

// WriteFile writes tensors to path atomically: to a temporary file in the same
// directory, synced, then renamed over path.
func WriteFile(path string, tensors []Tensor, opts Options) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = Write(f, tensors, opts); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	return nil
}

// Read parses a whole tensor file held in data.
func Read(data []byte) ([]Tensor, error) {
	if len(data) < len(magic)+8 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not an asrkit tensor file (bad magic or too short)", ErrCorrupt)
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

// ReadFile reads and verifies a tensor file.
func ReadFile(path string) ([]Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tensorfile: %w", err)
	}
	ts, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}

func toHalf(b []byte) []byte {
	out := make([]byte, len(b)/2)
	for i := 0; i < len(b)/4; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(float16.Fromfloat32(f)))
	}
	return out
}

func fromHalf(b []byte) []byte {
	out := make([]byte, len(b)*2)
	for i := 0; i < len(b)/2; i++ {
		f := float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}
