package tensorfile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metadata keys asrkit writes into a safetensors header.
const (
	metaFormat  = "asrkit.format"  // "1"
	metaCRC     = "asrkit.crc32."  // + tensor name: CRC-32 (IEEE) of its stored bytes, 8 hex digits
	metaFloat16 = "asrkit.float16" // "float32": the F16 tensors are float32 stored in half precision
	metaKey     = "__metadata__"
)

// safetensors dtype names, by asrkit (GoMLX) dtype name.
var stDType = map[string]string{
	"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "uint16": "U16",
	"float16": "F16", "bfloat16": "BF16", "int32": "I32", "uint32": "U32", "float32": "F32",
	"float64": "F64", "int64": "I64", "uint64": "U64",
}

// ourDType is the inverse of stDType.
var ourDType = func() map[string]string {
	m := map[string]string{}
	for k, v := range stDType {
		m[v] = k
	}
	return m
}()

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Write writes tensors to w as a safetensors file, in the order given,
// with their checksums in the header's metadata.
func Write(w io.Writer, tensors []Tensor, opts Options) error {
	header := map[string]any{}
	meta := map[string]string{metaFormat: "1"}
	payloads := make([][]byte, len(tensors))
	var off int64
	for i, t := range tensors {
		if _, dup := header[t.Name]; dup || t.Name == metaKey {
			return fmt.Errorf("tensorfile: duplicate or reserved tensor name %q", t.Name)
		}
		es := elemSize[t.DType]
		if es == 0 {
			return fmt.Errorf("tensorfile: tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		if len(t.Data) != es*t.Size() {
			return fmt.Errorf("tensorfile: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		dt, ok := stDType[t.DType]
		if !ok {
			return fmt.Errorf("tensorfile: tensor %q: safetensors cannot hold %s", t.Name, t.DType)
		}
		p := t.Data
		if opts.Float16 && t.DType == "float32" {
			dt, p = "F16", toHalf(t.Data)
			meta[metaFloat16] = "float32"
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = stEntry{DType: dt, Shape: shape, Offsets: [2]int64{off, off + int64(len(p))}}
		meta[metaCRC+t.Name] = fmt.Sprintf("%08x", crc32.ChecksumIEEE(p))
		off += int64(len(p))
		payloads[i] = p
	}
	header[metaKey] = meta
	hb, err := json.Marshal(header) // keys sorted: the same tensors give the same bytes
	if err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	// Pad the header with spaces so that the data starts 8-byte aligned.
	if pad := (8 - len(hb)%8) % 8; pad > 0 {
		hb = append(hb, bytes.Repeat([]byte(" "), pad)...)
	}
	pre := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	if _, err := w.Write(append(pre, hb...)); err != nil {
		return fmt.Errorf("tensorfile: %w", err)
	}
	for _, p := range payloads {
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("tensorfile: %w", err)
		}
	}
	return nil
}

// stTensor is a parsed header entry.
type stTensor struct {
	name string
	stEntry
}

// readSafetensors parses and verifies a whole safetensors file held in
// data. The data must be covered by the tensors exactly, without holes or
// overlaps (as the format requires); a file asrkit wrote must hold a
// checksum of every tensor, and every checksum must match.
func readSafetensors(data []byte) ([]Tensor, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: not a safetensors file (%d bytes)", ErrCorrupt, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("%w: header length %d exceeds the file's %d bytes (not a safetensors file, or truncated)", ErrCorrupt, n, len(data))
	}
	entries, meta, err := parseHeader(data[8 : 8+n])
	if err != nil {
		return nil, err
	}
	body := data[8+n:]
	if err := checkExtents(entries, int64(len(body))); err != nil {
		return nil, err
	}
	ours := meta[metaFormat] != ""
	out := make([]Tensor, 0, len(entries))
	for _, e := range entries {
		p := body[e.Offsets[0]:e.Offsets[1]]
		if sum, ok := meta[metaCRC+e.name]; ok || ours {
			want, perr := strconv.ParseUint(sum, 16, 32)
			if !ok || perr != nil {
				return nil, fmt.Errorf("%w: tensor %q has no valid checksum in the header", ErrCorrupt, e.name)
			}
			if uint64(crc32.ChecksumIEEE(p)) != want {
				return nil, fmt.Errorf("%w: tensor %q: checksum mismatch", ErrCorrupt, e.name)
			}
		}
		t := Tensor{Name: e.name, DType: ourDType[e.DType], Shape: e.Shape, Data: slices.Clone(p)}
		if e.DType == "F16" && meta[metaFloat16] == "float32" {
			t.DType, t.Data = "float32", fromHalf(p)
		}
		out = append(out, t)
	}
	return out, nil
}

// parseHeader decodes a safetensors header: the tensors, sorted by where
// their data starts, and the metadata.
func parseHeader(hb []byte) ([]stTensor, map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	meta := map[string]string{}
	if m, ok := raw[metaKey]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("%w: header metadata: %v", ErrCorrupt, err)
		}
		delete(raw, metaKey)
	}
	entries := make([]stTensor, 0, len(raw))
	for name, r := range raw {
		e := stTensor{name: name}
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e.stEntry); err != nil {
			return nil, nil, fmt.Errorf("%w: header entry %q: %v", ErrCorrupt, name, err)
		}
		if err := e.check(); err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b stTensor) int {
		return cmp.Or(cmp.Compare(a.Offsets[0], b.Offsets[0]), cmp.Compare(a.Offsets[1], b.Offsets[1]), strings.Compare(a.name, b.name))
	})
	return entries, meta, nil
}

// check verifies that an entry's dtype is known and that its extent holds
// exactly its shape's elements.
func (e stTensor) check() error {
	dt, ok := ourDType[e.DType]
	if !ok {
		return fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrCorrupt, e.name, e.DType)
	}
	es := int64(elemSize[dt])
	n := int64(1)
	for _, d := range e.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/es/int64(d)) {
			return fmt.Errorf("%w: tensor %q has invalid shape %v", ErrCorrupt, e.name, e.Shape)
		}
		n *= int64(d)
	}
	b, end := e.Offsets[0], e.Offsets[1]
	if b < 0 || end < b || end-b != n*es {
		return fmt.Errorf("%w: tensor %q: data_offsets %v do not hold shape %v of %s", ErrCorrupt, e.name, e.Offsets, e.Shape, e.DType)
	}
	return nil
}

// checkExtents verifies that the tensors, sorted by offset, cover the data
// of size bytes exactly: no gap, no overlap, nothing after the last.
func checkExtents(entries []stTensor, size int64) error {
	var at int64
	for _, e := range entries {
		if e.Offsets[0] != at {
			return fmt.Errorf("%w: tensor %q starts at byte %d of the data, the previous one ends at %d (a gap or an overlap)", ErrCorrupt, e.name, e.Offsets[0], at)
		}
		at = e.Offsets[1]
	}
	if at != size {
		return fmt.Errorf("%w: the tensors take %d bytes of data, the file holds %d (truncated or extended)", ErrCorrupt, at, size)
	}
	return nil
}
