package features

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

// loadFuzzSeeds reads the committed seed corpus in testdata/fuzz/FuzzDecode at
// the repository root (Go only loads a package's own testdata/fuzz, and this
// project keeps one testdata/). Files are in Go's corpus format ("go test fuzz
// v1" and a []byte literal), so a crasher that go test -fuzz writes can be
// moved there as it is; other files are used as raw bytes.
func loadFuzzSeeds(f *testing.F) {
	dir := testutil.Path(f, "fuzz", "FuzzDecode")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if rest, ok := strings.CutPrefix(string(b), "go test fuzz v1\n"); ok {
			lit := strings.TrimSpace(rest)
			lit, ok1 := strings.CutPrefix(lit, "[]byte(")
			lit, ok2 := strings.CutSuffix(lit, ")")
			s, err := strconv.Unquote(lit)
			if !ok1 || !ok2 || err != nil {
				f.Fatalf("%s: not a []byte corpus entry", e.Name())
			}
			b = []byte(s)
		}
		f.Add(b)
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it must return audio that
// satisfies the package's promises, or an error wrapping one of the two
// sentinels; never panic, hang or allocate without bound.
func FuzzDecode(f *testing.F) {
	loadFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			if a != nil {
				t.Fatal("audio and an error")
			}
			return
		}
		if a.SampleRate < MinSampleRate || a.SampleRate > MaxSampleRate || a.Channels < 1 || a.Channels > MaxChannels {
			t.Fatalf("audio at %d Hz with %d channels", a.SampleRate, a.Channels)
		}
		if (a.Format == "wav" || a.Format == "rf64") && len(a.Samples) > len(data) {
			t.Fatalf("%d samples from %d bytes of WAV", len(a.Samples), len(data))
		}
		for i, v := range a.Samples {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}
