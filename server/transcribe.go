package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/features"
)

// decodeQuery are the decoding settings of a request; nil and false keep
// the served model's.
type decodeQuery struct {
	beam                *int
	lmWeight, wordBonus *float64
	noLM                bool
}

// parseDecodeQuery reads beam, lm_weight, word_bonus and no_lm.
func parseDecodeQuery(v url.Values) (decodeQuery, error) {
	var q decodeQuery
	if s := v.Get("beam"); s != "" {
		b, err := strconv.Atoi(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "beam=%q: not an integer", s)
		}
		q.beam = &b
	}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"lm_weight", &q.lmWeight}, {"word_bonus", &q.wordBonus}} {
		if s := v.Get(f.name); s != "" {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return q, errorf(http.StatusBadRequest, "%s=%q: not a number", f.name, s)
			}
			*f.dst = &x
		}
	}
	if s := v.Get("no_lm"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "no_lm=%q: want true or false", s)
		}
		q.noLM = b
	}
	return q, q.validate()
}

func (q decodeQuery) validate() error {
	if q.beam != nil && (*q.beam < 0 || *q.beam > DefaultMaxBeam) {
		return errorf(http.StatusBadRequest, "beam %d: want 1 (greedy) to %d", *q.beam, DefaultMaxBeam)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"lm_weight", q.lmWeight}, {"word_bonus", q.wordBonus}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return errorf(http.StatusBadRequest, "%s: want a finite number", f.name)
		}
	}
	if q.noLM && q.lmWeight != nil {
		return errorf(http.StatusBadRequest, "lm_weight needs the language model that no_lm turns off")
	}
	return nil
}

func (q decodeQuery) isZero() bool {
	return q.beam == nil && q.lmWeight == nil && q.wordBonus == nil && !q.noLM
}

func ptrOr(p *float64, v float64) float64 {
	if p != nil {
		return *p
	}
	return v
}

// recognizer returns the served model's recognizer decoding as q says: a
// variant sharing the model when q changes anything.
func (m *served) recognizer(q decodeQuery) (*asr.Recognizer, error) {
	if q.isZero() {
		return m.rec, nil
	}
	r, err := withDecoding(m.rec, q, m.lmWeight, m.wordBonus)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "decoding options: %v", strings.TrimPrefix(err.Error(), "asr: "))
	}
	return r, nil
}

// errRecorder remembers the first error of a reader other than EOF, so
// that a body over the size limit is told apart from bad audio whatever the
// decoder makes of the error.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// audioBody returns the audio of a request: the body, or the "file" part
// (else the first file part) of a multipart/form-data body.
func audioBody(r *http.Request, body io.Reader) (io.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return body, nil
	}
	if params["boundary"] == "" {
		return nil, errorf(http.StatusBadRequest, "a multipart body without a boundary")
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errorf(http.StatusBadRequest, `the multipart body has no file part: send the audio as a part named "file"`)
		}
		if err != nil {
			return nil, err
		}
		if p.FormName() == "file" || p.FileName() != "" {
			return p, nil
		}
	}
}

// decodeUpload decodes the uploaded audio: 413 over the size or duration
// limit, 400 for anything that is not audio (with the decoder's message).
func (s *Server) decodeUpload(w http.ResponseWriter, r *http.Request) (*features.Audio, error) {
	rec := &errRecorder{r: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)}
	tooBig := func() error {
		var mbe *http.MaxBytesError
		if errors.As(rec.err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "the upload is over the limit of %s", byteSize(mbe.Limit))
		}
		return nil
	}
	in, err := audioBody(r, rec)
	if err != nil {
		if e := tooBig(); e != nil {
			return nil, e
		}
		var se *statusError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "reading the multipart body: %v", err)
	}
	a, err := features.Decode(in)
	if e := tooBig(); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	if d := time.Duration(float64(len(a.Samples)) / float64(a.SampleRate) * float64(time.Second)); d > s.cfg.MaxAudio {
		return nil, errorf(http.StatusRequestEntityTooLarge, "the audio lasts %s, over the limit of %s", d.Round(time.Second), s.cfg.MaxAudio)
	}
	return a, nil
}

// handleTranscribe answers POST /v1/transcribe.
func (s *Server) handleTranscribe(w http.ResponseWriter, r *http.Request) {
	res, m, err := s.transcribe(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	switch r.URL.Query().Get("format") {
	case api.FormatText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, res.Text+"\n")
	case api.FormatSRT:
		w.Header().Set("Content-Type", "application/x-subrip; charset=utf-8")
		res.WriteSRT(w)
	case api.FormatVTT:
		w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
		res.WriteVTT(w)
	default:
		writeJSON(w, http.StatusOK, m)
	}
}

// transcribe runs a transcription request through the pool.
func (s *Server) transcribe(w http.ResponseWriter, r *http.Request) (asr.Result, api.Transcript, error) {
	var out api.Transcript
	switch f := r.URL.Query().Get("format"); f {
	case "", api.FormatJSON, api.FormatText, api.FormatSRT, api.FormatVTT:
	default:
		return asr.Result{}, out, errorf(http.StatusBadRequest, "format=%q: want json, text, srt or vtt", f)
	}
	q, err := parseDecodeQuery(r.URL.Query())
	if err != nil {
		return asr.Result{}, out, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	t, err := s.pool.admit()
	if err != nil {
		return asr.Result{}, out, err
	}
	defer t.done()
	a, err := s.decodeUpload(w, r)
	if err != nil {
		return asr.Result{}, out, err
	}
	m := s.models.acquire()
	defer m.release()
	rec, err := m.recognizer(q)
	if err != nil {
		return asr.Result{}, out, err
	}
	var res asr.Result
	var took time.Duration
	err = t.run(ctx, func() error {
		start := time.Now()
		var err error
		res, err = rec.Transcribe(ctx, a.Samples, a.SampleRate)
		took = time.Since(start)
		return err
	})
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return res, out, errorf(http.StatusGatewayTimeout, "the transcription took longer than the request timeout (%s)", s.cfg.RequestTimeout)
	case errors.Is(err, asr.ErrAudio) || errors.Is(err, asr.ErrSampleRate):
		return res, out, errorf(http.StatusBadRequest, "%v", strings.TrimPrefix(err.Error(), "asr: "))
	default:
		var se *statusError
		if errors.As(err, &se) {
			return res, out, err
		}
		return res, out, fmt.Errorf("transcription failed: %w", err)
	}
	audio := res.Duration.Seconds()
	s.metrics.audio.WithLabelValues("transcribe").Add(audio)
	if audio > 0 {
		s.metrics.rtf.Observe(took.Seconds() / audio)
	}
	out = transcript(res)
	out.Model, out.Decoder, out.ProcessingTime = m.info.Name, rec.Info().Decoder, round3(took.Seconds())
	return res, out, nil
}

// transcript converts a result to its wire form.
func transcript(res asr.Result) api.Transcript {
	t := api.Transcript{Text: res.Text, Duration: seconds(res.Duration), Words: make([]api.Word, len(res.Words))}
	for i, w := range res.Words {
		t.Words[i] = api.Word{Word: w.Text, Start: seconds(w.Start), End: seconds(w.End), Confidence: round3(w.Confidence)}
	}
	return t
}

// seconds is a duration in float seconds, to the millisecond.
func seconds(d time.Duration) float64 { return round3(d.Seconds()) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
