package server_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSpectrogram(t *testing.T) {
	_, ts, c := newServer(t, nil)
	ctx := context.Background()
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0002.wav") // 1.9 s at 22.05 kHz
	s, err := c.Spectrogram(ctx, bytes.NewReader(wav), 0)
	if err != nil {
		t.Fatal(err)
	}
	// 10 ms frames at 16 kHz: about 190 of them, all in their own column.
	if s.SampleRate != 16000 || s.Bands != 80 || s.Frames < 180 || s.Frames > 200 || s.Columns != s.Frames || s.ColumnFrames != 1 ||
		s.FrameSeconds != 0.01 || s.Duration < 1.8 || s.Duration > 2 || len(s.Data) != s.Columns*s.Bands || len(s.BandHz) != s.Bands {
		t.Fatalf("spectrogram %+v", *s)
	}
	if s.BandHz[0] <= 0 || s.BandHz[79] > 8000 || s.BandHz[0] >= s.BandHz[79] {
		t.Errorf("band centres %v ... %v", s.BandHz[0], s.BandHz[79])
	}
	var loudest byte
	quiet := 0
	for _, v := range s.Data {
		loudest = max(loudest, v)
		if v < 128 {
			quiet++
		}
	}
	if loudest != 255 || quiet == 0 {
		t.Errorf("data spans up to %d with %d values in the lower half: want the full range", loudest, quiet)
	}
	// Fewer columns: frames averaged in groups.
	s2, err := c.Spectrogram(ctx, bytes.NewReader(wav), 50)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Columns > 50 || s2.ColumnFrames != (s.Frames+49)/50 || len(s2.Data) != s2.Columns*80 {
		t.Errorf("50 columns: %d columns of %d frames", s2.Columns, s2.ColumnFrames)
	}
	// A picture.
	b, err := c.SpectrogramPNG(ctx, bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("PNG: %v", err)
	}
	// Bad requests.
	for _, tt := range []struct {
		query string
		body  []byte
		msg   string
	}{
		{"format=gif", wav, "want json or png"},
		{"columns=0", wav, "want 1 to"},
		{"columns=x", wav, "want 1 to"},
		{"", []byte("not audio"), "malformed audio"},
	} {
		resp, err := http.Post(ts.URL+"/v1/spectrogram?"+tt.query, "application/octet-stream", bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), tt.msg) {
			t.Errorf("?%s: %s %s, want 400 with %q", tt.query, resp.Status, body, tt.msg)
		}
	}
}
