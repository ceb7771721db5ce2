package features

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

// Anchor colours of matplotlib's maps (matplotlib/_cm_listed.py).
func TestColormaps(t *testing.T) {
	tests := []struct {
		name string
		f    func(float64) color.RGBA
		at   float64
		want color.RGBA
	}{
		{"magma", magma, 0, color.RGBA{0x00, 0x00, 0x04, 0xff}},
		{"magma", magma, 0.5, color.RGBA{0xb7, 0x37, 0x79, 0xff}},
		{"magma", magma, 1, color.RGBA{0xfc, 0xfd, 0xbf, 0xff}},
		{"viridis", viridis, 0, color.RGBA{0x44, 0x01, 0x54, 0xff}},
		{"viridis", viridis, 0.5, color.RGBA{0x21, 0x91, 0x8c, 0xff}},
		{"viridis", viridis, 1, color.RGBA{0xfd, 0xe7, 0x25, 0xff}},
	}
	for _, tt := range tests {
		got := tt.f(tt.at)
		d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
		if d(got.R, tt.want.R) > 8 || d(got.G, tt.want.G) > 8 || d(got.B, tt.want.B) > 8 {
			t.Errorf("%s(%g) = %v, want about %v", tt.name, tt.at, got, tt.want)
		}
	}
}

func TestSpectrogram(t *testing.T) {
	a, err := DecodeFile(testutil.Path(t, "audio", "speech16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	e := newTestExtractor(t, Config{})
	m, _ := e.Compute(a.Samples)
	img, err := Spectrogram(m, Config{}, SpectrogramOptions{Title: "speech"})
	if err != nil {
		t.Fatal(err)
	}
	// Columns of 8 pixels per frame (61 frames are widened to at least
	// 480 pixels), 4 rows per band, plus margins.
	colW := (480 + m.Frames - 1) / m.Frames
	if b := img.Bounds(); b.Dx() != 64+m.Frames*colW+84 || b.Dy() != 28+320+44 {
		t.Errorf("image %v for %d frames", b, m.Frames)
	}
	// The loudest cell gets the top colour of the map.
	var bestT, bestB int
	for i, v := range m.Data {
		if v > m.Data[bestT*80+bestB] {
			bestT, bestB = i/80, i%80
		}
	}
	if got := img.RGBAAt(64+bestT*colW, 28+320-(bestB+1)*4); got != magma(1) {
		t.Errorf("loudest cell drawn %v, want %v", got, magma(1))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	// Long features are averaged down to MaxWidth columns.
	long := &LogMel{Data: make([]float32, 10000*80), Frames: 10000, Bands: 80}
	img, err = Spectrogram(long, Config{}, SpectrogramOptions{MaxWidth: 1000, Colormap: "viridis"})
	if err != nil || img.Bounds().Dx() != 64+1000+84 {
		t.Errorf("long: %v, %v", img.Bounds(), err)
	}
	for _, bad := range []struct {
		m    *LogMel
		cfg  Config
		opts SpectrogramOptions
	}{
		{m, Config{NumMels: 40}, SpectrogramOptions{}},
		{&LogMel{Bands: 80}, Config{}, SpectrogramOptions{}},
		{m, Config{}, SpectrogramOptions{Colormap: "jet"}},
	} {
		if _, err := Spectrogram(bad.m, bad.cfg, bad.opts); err == nil {
			t.Errorf("no error for %d×%d, %+v, %+v", bad.m.Frames, bad.m.Bands, bad.cfg, bad.opts)
		}
	}
}

func TestColumnsDB(t *testing.T) {
	ln10 := float32(math.Ln10)
	// Three frames of two bands; the loudest value is ln 10 (10 dB).
	m := &LogMel{Frames: 3, Bands: 2, Data: []float32{ln10, 0, 0, 0, ln10, ln10}}
	for _, c := range []struct {
		maxCols     int
		cols, group int
		db          []float64
	}{
		{3, 3, 1, []float64{0, -10, -10, -10, 0, 0}},
		{2, 2, 2, []float64{-5, -10, 0, 0}}, // frames 0-1 averaged, then frame 2 alone
		{1, 1, 3, []float64{-10.0 / 3, -20.0 / 3}},
	} {
		cols, group, db, maxDB := m.ColumnsDB(c.maxCols)
		if cols != c.cols || group != c.group || len(db) != len(c.db) || math.Abs(maxDB-10) > 1e-5 {
			t.Errorf("ColumnsDB(%d) = %d cols of %d, %v, max %g", c.maxCols, cols, group, db, maxDB)
			continue
		}
		for i := range db {
			if math.Abs(db[i]-c.db[i]) > 1e-5 {
				t.Errorf("ColumnsDB(%d): value %d is %g, want %g", c.maxCols, i, db[i], c.db[i])
			}
		}
	}
	if cols, _, db, _ := (&LogMel{Bands: 2}).ColumnsDB(4); cols != 0 || db != nil {
		t.Errorf("no frames: %d cols, %v", cols, db)
	}
}
