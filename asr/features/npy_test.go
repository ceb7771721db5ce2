package features

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readNPY parses a little-endian float32 .npy array, returning its data and
// shape. It is an independent reader for the tests (the reference filterbanks
// and the files WriteNPY makes).
func readNPY(r io.Reader) ([]float32, []int, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, err
	}
	if string(pre[:6]) != "\x93NUMPY" || pre[6] != 1 {
		return nil, nil, fmt.Errorf("not an npy v1 file: % x", pre[:8])
	}
	hlen := binary.LittleEndian.Uint16(pre[8:])
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, nil, err
	}
	hs := string(h)
	if !strings.Contains(hs, "'descr': '<f4'") || !strings.Contains(hs, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("unsupported npy header %q", hs)
	}
	m := regexp.MustCompile(`'shape': \(([0-9, ]*)\)`).FindStringSubmatch(hs)
	if m == nil {
		return nil, nil, fmt.Errorf("no shape in %q", hs)
	}
	var shape []int
	n := 1
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, nil, err
		}
		shape = append(shape, d)
		n *= d
	}
	raw := make([]byte, 4*n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, err
	}
	if extra, _ := io.Copy(io.Discard, r); extra != 0 {
		return nil, nil, fmt.Errorf("%d bytes after the data", extra)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, shape, nil
}

// readNPZ returns the float32 arrays of an .npz file by name.
func readNPZ(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string][]float32{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, shape, err := readNPY(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		t.Logf("%s: shape %v", f.Name, shape)
		out[strings.TrimSuffix(f.Name, ".npy")] = data
	}
	return out
}

func TestWriteNPY(t *testing.T) {
	m := &LogMel{Data: []float32{1, -2.5, 3, float32(math.Inf(-1)), 0, 6}, Frames: 3, Bands: 2}
	var b bytes.Buffer
	if err := m.WriteNPY(&b); err != nil {
		t.Fatal(err)
	}
	if (b.Len()-len(m.Data)*4)%64 != 0 {
		t.Errorf("header of %d bytes is not padded to 64", b.Len()-len(m.Data)*4)
	}
	data, shape, err := readNPY(&b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(shape) != "[3 2]" || fmt.Sprint(data) != fmt.Sprint(m.Data) {
		t.Errorf("read back %v %v, want [3 2] %v", shape, data, m.Data)
	}
	bad := &LogMel{Data: []float32{1}, Frames: 2, Bands: 2}
	if err := bad.WriteNPY(io.Discard); err == nil {
		t.Error("inconsistent LogMel: no error")
	}
}
