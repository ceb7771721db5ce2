// Package testutil locates the repository's testdata and the external tools
// that some tests drive (sox, espeak-ng, sclite, chromium, ...).
//
// Tests that need an external program call [RequireTool]: it skips the test
// when the program is missing, unless ASRKIT_REQUIRE_TOOLS=1 is set (the
// project's test command sets it after installing the tools), in which case a
// missing tool fails the test instead of hiding it.
package testutil

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository root (the directory holding go.mod).
func Root(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testutil: cannot locate source file")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testutil: go.mod not found above " + file)
		}
		dir = parent
	}
}

// Path returns the absolute path of a file under the root testdata directory,
// failing the test when it does not exist.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root(tb), "testdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("testutil: %v", err)
	}
	return p
}

// LJSpeechClips returns the paths of the eight real LJSpeech clips in
// testdata/ljspeech/wavs, in id order.
func LJSpeechClips(tb testing.TB) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(Path(tb, "ljspeech", "wavs"), "LJ*.wav"))
	if err != nil || len(m) == 0 {
		tb.Fatalf("testutil: no LJSpeech clips found: %v", err)
	}
	return m
}

// RequireTool returns the path of an external program. When it is missing the
// test is skipped, or fails if ASRKIT_REQUIRE_TOOLS=1.
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("ASRKIT_REQUIRE_TOOLS") == "1" {
		tb.Fatalf("required tool %q not found (the test command installs it: scripts/test.sh)", name)
	}
	tb.Skipf("tool %q not installed; skipping (scripts/test.sh installs it)", name)
	return ""
}

// WAVHeader is the 44-byte header of a 16-bit mono PCM WAV file at rate
// with dataBytes bytes of samples; a negative dataBytes gives the sizes
// 0xFFFFFFFF that a program writing WAV to a pipe leaves (a stream of
// unknown length).
func WAVHeader(rate, dataBytes int) []byte {
	riff, data := uint32(0xffffffff), uint32(0xffffffff)
	if dataBytes >= 0 {
		riff, data = uint32(36+dataBytes), uint32(dataBytes)
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(riff)
	b.WriteString("WAVEfmt ")
	w(uint32(16))       // fmt chunk size
	w(uint16(1))        // PCM
	w(uint16(1))        // mono
	w(uint32(rate))     // samples per second
	w(uint32(2 * rate)) // bytes per second
	w(uint16(2))        // block align
	w(uint16(16))       // bits per sample
	b.WriteString("data")
	w(data)
	return b.Bytes()
}
