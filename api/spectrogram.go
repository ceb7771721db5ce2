package api

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// DefaultSpectrogramColumns is the number of time columns POST
// /v1/spectrogram returns at most when the request does not say.
const DefaultSpectrogramColumns = 1600

// Spectrogram is the JSON response of POST /v1/spectrogram: the log-mel
// features of the uploaded audio, as the served model computes them
// (before normalisation), quantised to bytes for drawing.
type Spectrogram struct {
	// Duration is the length of the audio, in seconds.
	Duration float64 `json:"duration"`
	// SampleRate is the rate the features are computed at, in Hz (the
	// audio was resampled to it).
	SampleRate int `json:"sample_rate"`
	// Frames is the number of feature frames; FrameSeconds the hop
	// between them, in seconds.
	Frames       int     `json:"frames"`
	FrameSeconds float64 `json:"frame_seconds"`
	// Columns is the number of time columns of Data: the frames, or their
	// averages over groups of ColumnFrames frames when there are more than
	// the request's columns limit. Column i starts at
	// i*ColumnFrames*FrameSeconds seconds.
	Columns      int `json:"columns"`
	ColumnFrames int `json:"column_frames"`
	// Bands is the number of mel bands; BandHz the centre frequency of
	// each, lowest first.
	Bands  int       `json:"bands"`
	BandHz []float64 `json:"band_hz"`
	// MaxDB is the loudest value, in dB (10·log10 of the mel energy), and
	// RangeDB the range below it that Data spans.
	MaxDB   float64 `json:"max_db"`
	RangeDB float64 `json:"range_db"`
	// Data holds Columns×Bands bytes, column after column, each column's
	// bands lowest first: 255 is MaxDB, 0 is RangeDB or more below it
	// (base64 in JSON).
	Data []byte `json:"data"`
}

// SpectrogramOptions are the query parameters of POST /v1/spectrogram.
type SpectrogramOptions struct {
	// Format is "json" (a Spectrogram, the default) or "png" (a picture
	// with axes and a colour bar, as `asr features --png` draws).
	Format string
	// Columns limits the time columns of the JSON answer; 0 means
	// DefaultSpectrogramColumns. Query parameter: columns.
	Columns int
}

// Values encodes the options as query parameters.
func (o SpectrogramOptions) Values() url.Values {
	v := url.Values{}
	if o.Format != "" {
		v.Set("format", o.Format)
	}
	if o.Columns != 0 {
		v.Set("columns", strconv.Itoa(o.Columns))
	}
	return v
}

// Spectrogram computes the log-mel spectrogram of an audio file (POST
// /v1/spectrogram, format json).
func (c *Client) Spectrogram(ctx context.Context, audio io.Reader, columns int) (*Spectrogram, error) {
	var s Spectrogram
	q := SpectrogramOptions{Columns: columns}.Values()
	return &s, c.do(ctx, http.MethodPost, "/v1/spectrogram", q, "application/octet-stream", audio, &s)
}

// SpectrogramPNG draws the log-mel spectrogram of an audio file as a PNG
// picture (POST /v1/spectrogram?format=png).
func (c *Client) SpectrogramPNG(ctx context.Context, audio io.Reader) ([]byte, error) {
	resp, err := c.send(ctx, http.MethodPost, "/v1/spectrogram", SpectrogramOptions{Format: "png"}.Values(), "application/octet-stream", audio)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
