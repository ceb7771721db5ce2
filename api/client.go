package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// StatusError is the error of a request the server answered with an
// error status.
type StatusError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the server's {"error": ...} message, or the body's start
	// when it was not one.
	Message string
}

// Error gives the status and the server's message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Client talks to an `asr serve` server. The zero value is not usable:
// create one with [NewClient]. A Client is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// NewClient returns a client of the server at base (e.g.
// "http://localhost:8000"). token is sent as a Bearer token when not
// empty. hc nil means http.DefaultClient.
func NewClient(base, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("api: server URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("api: server URL %q: want http:// or https://", base)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: u, token: token, http: hc}, nil
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// do sends a request and decodes a JSON response into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, contentType string, body io.Reader, out any) error {
	resp, err := c.send(ctx, method, path, q, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("api: %s %s: decoding the response: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns the response when its status is 2xx,
// or a *StatusError.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, q), body)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e Error
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return nil, &StatusError{StatusCode: resp.StatusCode, Message: msg}
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("api: %w", err)
		}
		body = bytes.NewReader(b)
	}
	return c.do(ctx, http.MethodPost, path, nil, "application/json", body, out)
}

// Health returns the server's health (GET /healthz).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.do(ctx, http.MethodGet, "/healthz", nil, "", nil, &h)
}

// Transcribe sends audio (WAV, FLAC or MP3 bytes) and returns its
// transcript (POST /v1/transcribe). opts.Format must be empty or "json";
// use [Client.TranscribeFormat] for text and subtitles.
func (c *Client) Transcribe(ctx context.Context, audio io.Reader, opts TranscribeOptions) (*Transcript, error) {
	if opts.Format != "" && opts.Format != FormatJSON {
		return nil, fmt.Errorf("api: Transcribe returns JSON; use TranscribeFormat for %q", opts.Format)
	}
	var t Transcript
	return &t, c.do(ctx, http.MethodPost, "/v1/transcribe", opts.Values(), "application/octet-stream", audio, &t)
}

// TranscribeFormat is Transcribe for the text, srt and vtt formats: it
// returns the response body as it is.
func (c *Client) TranscribeFormat(ctx context.Context, audio io.Reader, opts TranscribeOptions) ([]byte, error) {
	resp, err := c.send(ctx, http.MethodPost, "/v1/transcribe", opts.Values(), "application/octet-stream", audio)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Models lists the served model and the loadable ones (GET /v1/models).
func (c *Client) Models(ctx context.Context) (*Models, error) {
	var m Models
	return &m, c.do(ctx, http.MethodGet, "/v1/models", nil, "", nil, &m)
}

// LoadModel switches the served model (POST /v1/models/load).
func (c *Client) LoadModel(ctx context.Context, req LoadModelRequest) (*ModelInfo, error) {
	var m ModelInfo
	return &m, c.postJSON(ctx, "/v1/models/load", req, &m)
}

// Train starts a training job from a config (YAML or JSON; POST
// /v1/train). name, when not empty, is the job's id.
func (c *Client) Train(ctx context.Context, config []byte, name string) (*Job, error) {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	var j Job
	return &j, c.do(ctx, http.MethodPost, "/v1/train", q, "application/yaml", bytes.NewReader(config), &j)
}

// CheckTrain validates a training config as Train would, without starting
// anything (POST /v1/train?dry_run=true).
func (c *Client) CheckTrain(ctx context.Context, config []byte, name string) (*TrainCheck, error) {
	q := url.Values{"dry_run": {"true"}}
	if name != "" {
		q.Set("name", name)
	}
	var tc TrainCheck
	return &tc, c.do(ctx, http.MethodPost, "/v1/train", q, "application/yaml", bytes.NewReader(config), &tc)
}

// Jobs lists every training job (GET /v1/train).
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var l JobList
	return l.Jobs, c.do(ctx, http.MethodGet, "/v1/train", nil, "", nil, &l)
}

// Job returns one job (GET /v1/train/{id}).
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	var j Job
	return &j, c.do(ctx, http.MethodGet, "/v1/train/"+url.PathEscape(id), nil, "", nil, &j)
}

// StopJob asks a running job to save a checkpoint and stop (POST
// /v1/train/{id}/stop). It returns at once; the job's state goes to
// stopping, then stopped.
func (c *Client) StopJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	return &j, c.postJSON(ctx, "/v1/train/"+url.PathEscape(id)+"/stop", nil, &j)
}

// ResumeJob resumes a stopped, interrupted or failed job from its newest
// checkpoint (POST /v1/train/{id}/resume).
func (c *Client) ResumeJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	return &j, c.postJSON(ctx, "/v1/train/"+url.PathEscape(id)+"/resume", nil, &j)
}

// Metrics returns a job's training curve (GET /v1/train/{id}/metrics).
func (c *Client) Metrics(ctx context.Context, id string) (*MetricsHistory, error) {
	var h MetricsHistory
	return &h, c.do(ctx, http.MethodGet, "/v1/train/"+url.PathEscape(id)+"/metrics", nil, "", nil, &h)
}

// Checkpoints lists a job's checkpoints (GET /v1/train/{id}/checkpoints).
func (c *Client) Checkpoints(ctx context.Context, id string) ([]Checkpoint, error) {
	var l CheckpointList
	return l.Checkpoints, c.do(ctx, http.MethodGet, "/v1/train/"+url.PathEscape(id)+"/checkpoints", nil, "", nil, &l)
}

// Export writes a model directory from a job's run directory (POST
// /v1/train/{id}/export); pass the result's Name to LoadModel.
func (c *Client) Export(ctx context.Context, id string, req ExportRequest) (*ModelInfo, error) {
	var m ModelInfo
	return &m, c.postJSON(ctx, "/v1/train/"+url.PathEscape(id)+"/export", req, &m)
}

// Datasets lists the corpora under the server's data root (GET
// /v1/datasets).
func (c *Client) Datasets(ctx context.Context) (*DatasetList, error) {
	var l DatasetList
	return &l, c.do(ctx, http.MethodGet, "/v1/datasets", nil, "", nil, &l)
}

// CheckDataset checks a corpus as training would (POST
// /v1/datasets/check).
func (c *Client) CheckDataset(ctx context.Context, req DatasetCheckRequest) (*DataReport, error) {
	var r DataReport
	return &r, c.postJSON(ctx, "/v1/datasets/check", req, &r)
}

// dial opens a WebSocket to path.
func (c *Client) dial(ctx context.Context, path string, q url.Values) (*websocket.Conn, error) {
	u := *c.base
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path += path
	u.RawQuery = q.Encode()
	opts := &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: http.Header{}}
	if c.token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+c.token)
	}
	conn, resp, err := websocket.Dial(ctx, u.String(), opts)
	if err != nil {
		if resp != nil && resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusSwitchingProtocols {
			msg := err.Error()
			if resp.Body != nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				var e Error
				if json.Unmarshal(b, &e) == nil && e.Error != "" {
					msg = e.Error
				}
			}
			return nil, &StatusError{StatusCode: resp.StatusCode, Message: msg}
		}
		return nil, fmt.Errorf("api: %w", err)
	}
	return conn, nil
}

// ErrStop may be returned by the callback of [Client.FollowEvents] to end
// the subscription without an error.
var ErrStop = errors.New("api: stop following")

// FollowEvents subscribes to a job's training events (the
// /v1/train/{id}/events WebSocket): fn receives the job's history first,
// then each new event as it happens. It returns when fn returns an error
// (nil for ErrStop), when ctx is done, or when the connection ends.
func (c *Client) FollowEvents(ctx context.Context, id string, fn func(TrainEvent) error) error {
	conn, err := c.dial(ctx, "/v1/train/"+url.PathEscape(id)+"/events", nil)
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	for {
		var e TrainEvent
		if err := wsjson.Read(ctx, conn, &e); err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				return nil
			}
			return fmt.Errorf("api: events of %s: %w", id, err)
		}
		if err := fn(e); err != nil {
			conn.Close(websocket.StatusNormalClosure, "")
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}

// Stream is a /v1/stream session (the Vosk server protocol). Send audio
// with [Stream.Send] and read one [StreamMessage] per audio message with
// [Stream.Recv]; end with [Stream.Finish].
type Stream struct {
	conn *websocket.Conn
}

// Stream opens a streaming session for PCM16 audio at sampleRate.
// opts set the decoding (its Format is ignored).
func (c *Client) Stream(ctx context.Context, sampleRate int, opts TranscribeOptions) (*Stream, error) {
	opts.Format = ""
	conn, err := c.dial(ctx, "/v1/stream", opts.Values())
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	if err := wsjson.Write(ctx, conn, StreamConfig{Config: StreamSettings{SampleRate: float64(sampleRate)}}); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("api: stream: %w", err)
	}
	return &Stream{conn: conn}, nil
}

// Send sends a chunk of little-endian 16-bit mono PCM.
func (s *Stream) Send(ctx context.Context, pcm []byte) error {
	if err := s.conn.Write(ctx, websocket.MessageBinary, pcm); err != nil {
		return fmt.Errorf("api: stream: %w", err)
	}
	return nil
}

// Recv reads the server's next message. An {"error": ...} message is
// returned as an error.
func (s *Stream) Recv(ctx context.Context) (StreamMessage, error) {
	var m StreamMessage
	if err := wsjson.Read(ctx, s.conn, &m); err != nil {
		return m, fmt.Errorf("api: stream: %w", err)
	}
	if m.Error != "" {
		return m, fmt.Errorf("api: stream: %s", m.Error)
	}
	return m, nil
}

// Finish sends {"eof": 1}, reads the final result and closes the session.
func (s *Stream) Finish(ctx context.Context) (StreamMessage, error) {
	defer s.conn.CloseNow()
	if err := wsjson.Write(ctx, s.conn, StreamEOF{EOF: 1}); err != nil {
		return StreamMessage{}, fmt.Errorf("api: stream: %w", err)
	}
	m, err := s.Recv(ctx)
	if err != nil {
		return m, err
	}
	s.conn.Close(websocket.StatusNormalClosure, "")
	return m, nil
}

// Close ends the session without a final result.
func (s *Stream) Close() error {
	return s.conn.Close(websocket.StatusNormalClosure, "")
}
