package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/testutil"
)

// runFeatures runs "asr features ARGS..." through an app holding only that
// command, with trailing flags handled as in main.
func runFeatures(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var cmd *cli.Command
	for _, c := range commands {
		if c.Name == "features" {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatal("no features command registered")
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: []*cli.Command{cmd}, Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	err := app.Run(reorderArgs(app, append([]string{"asr", "features"}, args...)))
	return out.String(), errOut.String(), err
}

func TestFeaturesCommandWritesNPYAndPNG(t *testing.T) {
	clip := testutil.LJSpeechClips(t)[1]
	dir := t.TempDir()
	npy, pic := filepath.Join(dir, "f.npy"), filepath.Join(dir, "s.png")
	// Flags after the file, as users type them.
	_, stderr, err := runFeatures(t, clip, "--out", npy, "--png", pic)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "22050 Hz") || !strings.Contains(stderr, "80 mel bands") {
		t.Errorf("summary %q", stderr)
	}
	// The .npy holds exactly what the library computes.
	a, _ := features.DecodeFile(clip)
	x, _ := features.Resample(a.Samples, a.SampleRate, 16000)
	e, _ := features.NewExtractor(features.Config{})
	m, _ := e.Compute(x)
	var want bytes.Buffer
	m.WriteNPY(&want)
	got, err := os.ReadFile(npy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf(".npy differs from the library's features (%d vs %d bytes)", len(got), want.Len())
	}
	if !bytes.Contains(got[:128], []byte("'shape': (")) || !bytes.Contains(got[:128], []byte(", 80)")) {
		t.Errorf("npy header %q", got[:128])
	}
	f, err := os.Open(pic)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < m.Frames || img.Bounds().Dy() < 320 {
		t.Errorf("spectrogram %v for %d frames", img.Bounds(), m.Frames)
	}
}

func TestFeaturesCommandSummary(t *testing.T) {
	out, _, err := runFeatures(t, "--mels", "40", testutil.Path(t, "audio", "flac_s24_stereo.flac"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"flac", "44100 Hz", "2 channels mixed to mono", "31 frames × 40 mel bands"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary %q lacks %q", out, want)
		}
	}
}

func TestFeaturesCommandErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.wav")
	os.WriteFile(text, []byte("not audio\n"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "want one audio file"},
		{[]string{testutil.Path(t, "audio", "vorbis.ogg")}, "ffmpeg -i " + testutil.Path(t, "audio", "vorbis.ogg")},
		{[]string{text}, "text file"},
		{[]string{filepath.Join(dir, "missing.wav")}, "no such file"},
		{[]string{"--mels", "0", testutil.Path(t, "audio", "speech16k.wav")}, ""},
		{[]string{"--mels", "5000", testutil.Path(t, "audio", "speech16k.wav")}, "features.n_mels"},
		{[]string{"--png", filepath.Join(dir, "s.png"), "--colormap", "jet", testutil.Path(t, "audio", "speech16k.wav")}, "colour map"},
		{[]string{"--out", filepath.Join(dir, "no", "such", "dir.npy"), testutil.Path(t, "audio", "speech16k.wav")}, "no such file"},
	}
	for _, tt := range tests {
		_, _, err := runFeatures(t, tt.args...)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.args, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "s.png")); err == nil {
		t.Error("a failed --png left a file behind")
	}
}
