package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/asr/features"
)

// Stream session settings.
const (
	// defaultStreamRate is the audio rate of a session that sends no config.
	defaultStreamRate = 16000
	// streamIdle ends a session that sends nothing for this long.
	streamIdle = time.Minute
	// maxStreamMessage bounds one message (a PCM chunk: 1 MiB is 32 s at 16 kHz).
	maxStreamMessage = 1 << 20
	// streamWriteTimeout drops a client that does not read its replies.
	streamWriteTimeout = 10 * time.Second
)

// handleStream serves /v1/stream: the Vosk server protocol. The client
// sends {"config": {"sample_rate": R}} (optional; 16 kHz without it), then
// binary messages of little-endian 16-bit mono PCM, then {"eof": 1}. The
// server answers every audio message with one message, {"partial": ...}
// or, when a pause made words final, {"text": ..., "result": [...]}, and
// answers eof with the final result before closing. The final results of a
// session, joined, are the transcript of its audio; the session's memory
// is bounded however long it runs.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	q, err := parseDecodeQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeError(w, &statusError{code: http.StatusServiceUnavailable, retryAfter: retryAfter,
			msg: fmt.Sprintf("the server has %d streaming sessions open, its limit; retry later", cap(s.streams))})
		return
	}
	m := s.models.acquire()
	defer m.release()
	rec, err := m.recognizer(q)
	if err == nil {
		rec, err = streamRecognizer(rec, s.cfg.PartialInterval)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	conn, ok := s.acceptWebSocket(w, r)
	if !ok {
		return
	}
	defer s.sessions.done()
	defer conn.CloseNow()
	conn.SetReadLimit(maxStreamMessage)
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		// At shutdown, close the session: its read then ends. (Cancelling
		// the read's context instead would drop the connection without a
		// close frame.)
		select {
		case <-s.closing:
			conn.Close(websocket.StatusGoingAway, "the server is shutting down")
		case <-ctx.Done():
		}
	}()
	sess := &session{conn: conn, st: rec.NewStream(), rate: defaultStreamRate, partialEvery: s.cfg.PartialInterval}
	err = sess.run(ctx)
	s.metrics.audio.WithLabelValues("stream").Add(float64(sess.samples) / float64(sess.rate))
	switch {
	case err == nil:
		conn.Close(websocket.StatusNormalClosure, "")
	case isClosed(err) || ctx.Err() != nil:
	case errors.Is(err, errIdle):
		conn.Close(websocket.StatusPolicyViolation, err.Error())
	default:
		var bad *badStream
		if errors.As(err, &bad) {
			sess.send(ctx, api.StreamMessage{Error: bad.msg})
			conn.Close(websocket.StatusUnsupportedData, truncate(bad.msg, 120))
			return
		}
		s.log.Warn("stream session failed", "err", err)
		sess.send(ctx, api.StreamMessage{Error: err.Error()})
		conn.Close(websocket.StatusInternalError, "transcription failed")
	}
}

var errIdle = fmt.Errorf("no message for %s", streamIdle)

// badStream is a client's protocol error.
type badStream struct{ msg string }

func (e *badStream) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badStream{msg: fmt.Sprintf(format, args...)} }

func isClosed(err error) bool {
	return websocket.CloseStatus(err) != -1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// session is one /v1/stream connection.
type session struct {
	conn         *websocket.Conn
	st           *asr.Stream
	rate         int
	audio        bool   // audio has arrived (the rate is fixed)
	odd          []byte // a byte of a sample split between two messages
	samples      int64
	partialAt    int64 // samples when the last partial was computed
	partialEvery time.Duration
	lastPartial  string
	buf          []float32
}

func (ss *session) send(ctx context.Context, m api.StreamMessage) error {
	wctx, cancel := context.WithTimeout(ctx, streamWriteTimeout)
	defer cancel()
	return wsjson.Write(wctx, ss.conn, m)
}

func (ss *session) run(ctx context.Context) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, streamIdle)
		typ, msg, err := ss.conn.Read(rctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return errIdle
			}
			return err
		}
		if typ == websocket.MessageText {
			done, err := ss.control(ctx, msg)
			if err != nil || done {
				return err
			}
			continue
		}
		if err := ss.accept(ctx, msg); err != nil {
			return err
		}
		if err := ss.reply(ctx); err != nil {
			return err
		}
	}
}

// control handles a text message: a config, or eof (done).
func (ss *session) control(ctx context.Context, msg []byte) (done bool, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return false, badf("a text message must be a JSON object ({\"config\": ...} or {\"eof\": 1}): %v", err)
	}
	if raw, ok := m["config"]; ok {
		var c api.StreamSettings
		if err := json.Unmarshal(raw, &c); err != nil {
			return false, badf("config: %v", err)
		}
		if c.SampleRate != 0 {
			rate := int(c.SampleRate)
			if float64(rate) != c.SampleRate || rate < features.MinSampleRate || rate > features.MaxSampleRate {
				return false, badf("config: sample_rate %v: want a whole number of Hz from %d to %d", c.SampleRate, features.MinSampleRate, features.MaxSampleRate)
			}
			if ss.audio && rate != ss.rate {
				return false, badf("config: the sample rate cannot change once audio has arrived")
			}
			ss.rate = rate
		}
		return false, nil
	}
	if _, ok := m["eof"]; ok {
		return true, ss.finish(ctx)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return false, badf("unknown message with keys %s: want config or eof", strings.Join(keys, ", "))
}

// accept feeds a binary message of PCM16 to the recogniser.
func (ss *session) accept(ctx context.Context, msg []byte) error {
	ss.audio = true
	if len(ss.odd) > 0 {
		msg = append(ss.odd, msg...)
		ss.odd = nil
	}
	if len(msg)%2 == 1 {
		ss.odd = []byte{msg[len(msg)-1]}
		msg = msg[:len(msg)-1]
	}
	n := len(msg) / 2
	ss.buf = ss.buf[:0]
	for i := range n {
		ss.buf = append(ss.buf, float32(int16(binary.LittleEndian.Uint16(msg[2*i:])))/32768)
	}
	ss.samples += int64(n)
	if err := ss.st.AcceptWaveform(ctx, ss.rate, ss.buf); err != nil {
		if errors.Is(err, asr.ErrSampleRate) || errors.Is(err, asr.ErrAudio) {
			return badf("%s", strings.TrimPrefix(err.Error(), "asr: "))
		}
		return err
	}
	return nil
}

// reply answers an audio message: the words that became final at a pause,
// or the partial result (recomputed every Config.PartialInterval of
// audio: a partial reruns the model on the audio since the last cut, so the
// replies to the chunks in between repeat the last one).
func (ss *session) reply(ctx context.Context) error {
	if time.Duration(ss.samples-ss.partialAt)*time.Second/time.Duration(ss.rate) >= ss.partialEvery {
		p, err := ss.st.Partial(ctx)
		if err != nil {
			return err
		}
		ss.partialAt, ss.lastPartial = ss.samples, p.Text
	}
	if res, ok := ss.st.Endpoint(); ok && len(res.Words) > 0 {
		// The partial included these words: the next one is recomputed.
		ss.partialAt, ss.lastPartial = 0, ""
		return ss.send(ctx, finalMessage(res))
	}
	p := ss.lastPartial
	return ss.send(ctx, api.StreamMessage{Partial: &p})
}

// finish answers eof with the rest of the transcript.
func (ss *session) finish(ctx context.Context) error {
	res, err := ss.st.Finish(ctx)
	if err != nil {
		return err
	}
	return ss.send(ctx, finalMessage(res))
}

// finalMessage is a Vosk result: {"text": ..., "result": [...]}.
func finalMessage(res asr.Result) api.StreamMessage {
	text := res.Text
	m := api.StreamMessage{Text: &text}
	for _, w := range res.Words {
		m.Result = append(m.Result, api.StreamWord{Word: w.Text, Start: seconds(w.Start), End: seconds(w.End), Conf: round3(w.Confidence)})
	}
	return m
}
