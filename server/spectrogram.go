package server

import (
	"context"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"strconv"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/features"
)

// Spectrogram limits.
const (
	// maxSpectrogramColumns bounds the columns a request may ask for.
	maxSpectrogramColumns = 8000
	// spectrogramRangeDB is the dynamic range of the JSON answer.
	spectrogramRangeDB = 80
)

// handleSpectrogram answers POST /v1/spectrogram: the log-mel features of
// the uploaded audio, as the served model computes them, quantised to
// bytes (JSON), or drawn as a PNG with axes (format=png). The audio is read
// as for POST /v1/transcribe, with the same limits; the work runs in the
// transcription pool.
func (s *Server) handleSpectrogram(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "png" {
		writeError(w, errorf(http.StatusBadRequest, "format=%q: want json or png", format))
		return
	}
	columns := api.DefaultSpectrogramColumns
	if c := q.Get("columns"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > maxSpectrogramColumns {
			writeError(w, errorf(http.StatusBadRequest, "columns=%q: want 1 to %d", c, maxSpectrogramColumns))
			return
		}
		columns = n
	}
	t, err := s.pool.admit()
	if err != nil {
		writeError(w, err)
		return
	}
	defer t.done()
	a, err := s.decodeUpload(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	m := s.models.acquire()
	cfg := features.Config{}
	if man := m.rec.Info().Manifest; man != nil {
		cfg = man.Features
	}
	m.release()
	zero := 0.0
	cfg.Dither = &zero
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	var mel *features.LogMel
	err = t.run(ctx, func() error {
		ext, err := features.NewExtractor(cfg)
		if err != nil {
			return err
		}
		cfg = ext.Config()
		samples := a.Samples
		if a.SampleRate != cfg.SampleRate {
			if samples, err = features.Resample(samples, a.SampleRate, cfg.SampleRate); err != nil {
				return errorf(http.StatusBadRequest, "%v", err)
			}
		}
		mel, err = ext.Compute(samples)
		if err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	if mel.Frames == 0 {
		writeError(w, errorf(http.StatusBadRequest, "the audio is empty"))
		return
	}
	duration := float64(len(a.Samples)) / float64(a.SampleRate)
	if format == "png" {
		img, err := features.Spectrogram(mel, cfg, features.SpectrogramOptions{
			Title: fmt.Sprintf("%d-band log-mel, %.2f s", mel.Bands, duration),
		})
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		png.Encode(w, img)
		return
	}
	writeJSON(w, http.StatusOK, quantise(mel, cfg, duration, columns))
}

// quantise averages the frames into at most columns columns and maps each
// value's dB below the loudest to a byte.
func quantise(m *features.LogMel, cfg features.Config, duration float64, columns int) api.Spectrogram {
	cols, group, db, maxDB := m.ColumnsDB(columns)
	out := api.Spectrogram{
		Duration: round3(duration), SampleRate: cfg.SampleRate, Frames: m.Frames,
		FrameSeconds: float64(cfg.HopLength) / float64(cfg.SampleRate),
		Columns:      cols, ColumnFrames: group, Bands: m.Bands, RangeDB: spectrogramRangeDB,
		MaxDB: round3(maxDB), Data: make([]byte, len(db)),
	}
	// Band centres: n_mels+2 points equally spaced on the mel scale, band
	// b centred on point b+1.
	htk := cfg.MelScale == "htk"
	lo, hi := features.HzToMel(cfg.FMin, htk), features.HzToMel(cfg.FMax, htk)
	out.BandHz = make([]float64, m.Bands)
	for b := range m.Bands {
		out.BandHz[b] = math.Round(features.MelToHz(lo+(hi-lo)*float64(b+1)/float64(m.Bands+1), htk))
	}
	for i, v := range db {
		out.Data[i] = byte(math.Round(255 * max(0, min(1, 1+v/spectrogramRangeDB))))
	}
	return out
}
