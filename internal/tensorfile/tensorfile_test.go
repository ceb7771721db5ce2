package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sample() []Tensor {
	return []Tensor{
		FromFloat32s("model/dense/weights", []float32{1, -2.5, 3.25, 0, 1e-3, 65504}, 2, 3),
		{Name: "global_step", DType: "int64", Shape: nil, Data: []byte{7, 0, 0, 0, 0, 0, 0, 0}},
		{Name: "empty", DType: "float32", Shape: []int{0, 4}, Data: nil},
	}
}

// writers are the two formats Read reads: safetensors (what Write writes)
// and the former ASRKTF01.
var writers = map[string]func(*bytes.Buffer, []Tensor, Options) error{
	"safetensors": func(b *bytes.Buffer, ts []Tensor, o Options) error { return Write(b, ts, o) },
	"ASRKTF01":    func(b *bytes.Buffer, ts []Tensor, o Options) error { return writeLegacy(b, ts, o) },
}

func TestRoundTrip(t *testing.T) {
	for format, write := range writers {
		for _, f16 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s float16=%v", format, f16), func(t *testing.T) { roundTrip(t, write, f16) })
		}
	}
}

func roundTrip(t *testing.T, write func(*bytes.Buffer, []Tensor, Options) error, f16 bool) {
	{
		var buf bytes.Buffer
		if err := write(&buf, sample(), Options{Float16: f16}); err != nil {
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
	for format, write := range writers {
		var buf bytes.Buffer
		if err := write(&buf, sample(), Options{}); err != nil {
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
			{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<62)},
		}
		if format == "safetensors" {
			tests = append(tests, struct {
				name string
				data []byte
			}{"extended body", append(slices.Clone(good), 0, 0, 0, 0)})
		}
		for _, tt := range tests {
			t.Run(format+" "+tt.name, func(t *testing.T) {
				_, err := Read(tt.data)
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("Read = %v, want ErrCorrupt", err)
				}
			})
		}
	}
}

// craftST builds a safetensors file around a hand-written header; with
// sums, every extent inside the body gets its correct checksum, so that
// the consistency checks, not the checksums, must catch what is wrong.
func craftST(entries map[string]stEntry, body []byte, sums bool) []byte {
	h := map[string]any{}
	meta := map[string]string{}
	for name, e := range entries {
		h[name] = e
		if b, end := e.Offsets[0], e.Offsets[1]; sums && b >= 0 && b <= end && end <= int64(len(body)) {
			meta[metaCRC+name] = fmt.Sprintf("%08x", crc32.ChecksumIEEE(body[b:end]))
		}
	}
	if sums {
		meta[metaFormat] = "1"
		h[metaKey] = meta
	}
	hb, _ := json.Marshal(h)
	return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(hb))), hb...), body...)
}

func TestInconsistentSafetensorsHeader(t *testing.T) {
	body := make([]byte, 16)
	f32 := func(shape []int, b, e int64) stEntry {
		return stEntry{DType: "F32", Shape: shape, Offsets: [2]int64{b, e}}
	}
	for _, tt := range []struct {
		name    string
		entries map[string]stEntry
	}{
		{"shape overflowing int64 bytes", map[string]stEntry{"x": {DType: "I64", Shape: []int{1 << 61}, Offsets: [2]int64{0, 16}}}},
		{"shape larger than its extent", map[string]stEntry{"x": f32([]int{5}, 0, 16)}},
		{"extent beyond the body", map[string]stEntry{"x": f32([]int{8}, 0, 32)}},
		{"negative offset", map[string]stEntry{"x": f32([]int{1}, -4, 0), "y": f32([]int{4}, 0, 16)}},
		{"reversed offsets", map[string]stEntry{"x": f32([]int{0}, 8, 4)}},
		{"negative dimension", map[string]stEntry{"x": f32([]int{-1}, 0, 16)}},
		{"unknown dtype", map[string]stEntry{"x": {DType: "C7", Shape: []int{4}, Offsets: [2]int64{0, 16}}}},
		{"gap", map[string]stEntry{"x": f32([]int{1}, 0, 4), "y": f32([]int{2}, 8, 16)}},
		{"overlap", map[string]stEntry{"x": f32([]int{3}, 0, 12), "y": f32([]int{2}, 8, 16)}},
		{"data after the last tensor", map[string]stEntry{"x": f32([]int{2}, 0, 8)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := Read(craftST(tt.entries, body, true))
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read = %d tensors, %v; want ErrCorrupt", len(ts), err)
			}
		})
	}
	// The crafting itself is sound: a consistent header reads.
	ok := map[string]stEntry{"x": f32([]int{2}, 0, 8), "y": f32([]int{1, 2}, 8, 16)}
	if ts, err := Read(craftST(ok, body, true)); err != nil || len(ts) != 2 {
		t.Fatalf("consistent crafted file: %d tensors, %v", len(ts), err)
	}
	// A file asrkit wrote must carry every checksum.
	noSum := craftST(ok, body, true)
	noSum = bytes.Replace(noSum, []byte(`"asrkit.crc32.y"`), []byte(`"asrkit.crc32.z"`), 1)
	if _, err := Read(noSum); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"y" has no valid checksum`) {
		t.Errorf("asrkit file without a tensor's checksum: %v", err)
	}
	// Unknown fields in an entry are refused.
	extra := bytes.Replace(craftST(ok, body, true), []byte(`"dtype"`), []byte(`"dtyp":1,"dtype"`), 1)
	extra = append(binary.LittleEndian.AppendUint64(nil, binary.LittleEndian.Uint64(extra)+9), extra[8:]...)
	if _, err := Read(extra); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown field: %v", err)
	}
}

// TestForeignSafetensors reads a file as another tool writes it: no asrkit
// metadata, hence no checksums, padded header.
func TestForeignSafetensors(t *testing.T) {
	body := make([]byte, 12)
	binary.LittleEndian.PutUint32(body[8:], math.Float32bits(1.5))
	f := craftST(map[string]stEntry{
		"a.weight": {DType: "I64", Shape: []int{1}, Offsets: [2]int64{0, 8}},
		"a.bias":   {DType: "F32", Shape: []int{}, Offsets: [2]int64{8, 12}},
	}, body, false)
	n := binary.LittleEndian.Uint64(f)
	padded := append(binary.LittleEndian.AppendUint64(nil, n+3), f[8:8+n]...)
	padded = append(append(padded, "   "...), body...)
	ts, err := Read(padded)
	if err != nil || len(ts) != 2 || ts[0].Name != "a.weight" || ts[1].DType != "float32" {
		t.Fatalf("Read = %+v, %v", ts, err)
	}
	if v, _ := ts[1].Float32s(); v[0] != 1.5 {
		t.Errorf("a.bias = %v", v)
	}
}

// TestPythonReads checks that the files are real safetensors: Python reads
// them with numpy alone (the format's header and raw arrays), names,
// shapes, values and the checksums in the metadata included.
func TestPythonReads(t *testing.T) {
	py := numpyPython(t)
	dir := t.TempDir()
	for _, f16 := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, sample(), Options{Float16: f16}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("f16-%v.safetensors", f16))
		os.WriteFile(p, buf.Bytes(), 0o644)
		out, err := exec.Command(py, "-c", pythonReader, p).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		// Python prints the float32 values as float64: 1e-3 is 0.0010000000474974513.
		want := "empty float32 (0, 4) []\nglobal_step int64 () [7]\nmodel/dense/weights float32 (2, 3) [1.0, -2.5, 3.25, 0.0, 0.0010000000474974513, 65504.0]\n"
		if f16 { // 1e-3 in half precision, as Read gives it too
			const half = 0.0010004043579101562
			ts, _ := Read(buf.Bytes())
			if v, _ := ts[0].Float32s(); v[4] != half {
				t.Errorf("Read gives %v for 1e-3 in half precision, numpy %v", v[4], half)
			}
			want = strings.Replace(want, "0.0010000000474974513,", fmt.Sprint(half)+",", 1)
		}
		if string(out) != want {
			t.Errorf("float16=%v: python read\n%s\nwant\n%s", f16, out, want)
		}
	}
}

// numpyPython returns a Python 3 that has numpy: python3 on the PATH, or
// the system's (Debian's python3-numpy installs numpy for /usr/bin/python3,
// which a python3 of pyenv or a virtual environment on the PATH lacks).
func numpyPython(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	if os.Getenv("ASRKIT_REQUIRE_TOOLS") == "1" {
		t.Fatal("no python3 with numpy (scripts/test.sh installs python3-numpy)")
	}
	t.Skip("no python3 with numpy installed (Debian: python3-numpy)")
	return ""
}

// pythonReader prints "name dtype shape values" for every tensor of the
// safetensors file argv[1], after checking each CRC-32 the metadata holds.
const pythonReader = `
import json, struct, sys, zlib
import numpy as np
data = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
meta = header.pop("__metadata__", {})
body = data[8 + n:]
types = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "U64": "<u8", "I32": "<i4", "F64": "<f8", "BOOL": "?"}
for name in sorted(header):
    e = header[name]
    b, end = e["data_offsets"]
    assert zlib.crc32(body[b:end]) == int(meta["asrkit.crc32." + name], 16), name
    a = np.frombuffer(body[b:end], dtype=types[e["dtype"]]).reshape(e["shape"])
    if e["dtype"] == "F16" and meta.get("asrkit.float16") == "float32":
        a = a.astype(np.float32)
    print(name, a.dtype, tuple(a.shape), [v.item() for v in a.astype(np.float64).ravel()] if a.dtype.kind == "f" else a.ravel().tolist())
`

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
