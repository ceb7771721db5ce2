// Package tensorfile reads and writes the files that hold asrkit's tensors:
// a checkpoint's weights and optimizer state, a model directory's weights.
//
// They are safetensors files (https://github.com/huggingface/safetensors),
// readable by the safetensors libraries, by numpy, and by anything that can
// parse an 8-byte length, a JSON header and raw little-endian arrays:
//
//	header length N            uint64, little-endian
//	header                     N bytes of JSON, padded with spaces:
//	                           {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//	                            "__metadata__": {"asrkit.format": "1", "asrkit.crc32.<name>": "<8 hex digits>", ...}}
//	data                       the arrays, one after the other, offsets relative to its start
//
// asrkit keeps its checksums in the header's metadata (strings, as the
// format requires): "asrkit.crc32.<name>" is the CRC-32 (IEEE) of each
// tensor's bytes, checked when the file is read, so a truncated or
// corrupted file is reported instead of loaded. Float32 tensors may be
// stored as F16 (half the size, for exported models); the metadata then
// holds "asrkit.float16": "float32" and Read converts them back.
//
// Read also reads the ASRKTF01 files of asrkit's first format (model
// directories of format_version 1, such as the bundled model).
package tensorfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// maxHeader bounds the header so a corrupt length cannot trigger a huge
// allocation.
const maxHeader = 64 << 20

// ErrCorrupt is returned (wrapped) when a file is truncated, has a bad
// checksum or an inconsistent header.
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

// Options controls Write.
type Options struct {
	// Float16 stores float32 tensors as IEEE half precision.
	Float16 bool
}

// Read parses and verifies a whole tensor file held in data: safetensors,
// or asrkit's former ASRKTF01 format.
func Read(data []byte) ([]Tensor, error) {
	if len(data) >= len(magic) && string(data[:len(magic)]) == magic {
		return readLegacy(data)
	}
	return readSafetensors(data)
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
