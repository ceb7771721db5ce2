package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr"
	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/asrkit/asrkit/server"
)

// testModel is the model the tests serve: testdata's tiny model, which
// has memorised the LJSpeech clips of testdata.
func testModel(t *testing.T) string { return testutil.Path(t, "models", "tiny-cpu") }

// newServer starts a server over httptest (empty roots, the test model,
// the pure-Go backend) with cfg changed by mod, and returns it with a
// client.
func newServer(t *testing.T, mod func(*server.Config)) (*server.Server, *httptest.Server, *api.Client) {
	t.Helper()
	cfg := server.Config{
		DataRoot: t.TempDir(), CheckpointRoot: t.TempDir(), Model: testModel(t), Backend: "go",
		Workers: 2, Executable: "/bin/false",
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
		srv.Close()
	})
	c, err := api.NewClient(ts.URL, cfg.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, ts, c
}

func readFile(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call sends a request and returns the status, headers and body.
func call(t *testing.T, method, url string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// errorMessage decodes an {"error": ...} body, failing the test for any
// other body.
func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e api.Error
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("not an {\"error\": ...} body: %q", body)
	}
	return e.Error
}

// ms is a duration in seconds, to the millisecond (as the API gives times).
func ms(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func statusOf(err error) int {
	var se *api.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// TestTranscribe checks that POST /v1/transcribe gives what the library
// gives, in every format and from a raw or a multipart body, whatever the
// Content-Type says.
func TestTranscribe(t *testing.T) {
	_, ts, c := newServer(t, nil)
	ctx := context.Background()
	rec, err := asr.Load(testModel(t), &asr.Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0002.wav")
	want, err := rec.TranscribeReader(ctx, bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if want.Text != "in being comparatively modern" {
		t.Fatalf("the test model says %q", want.Text)
	}
	got, err := c.Transcribe(ctx, bytes.NewReader(wav), api.TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != want.Text || len(got.Words) != len(want.Words) || got.Model != testModel(t) || got.Decoder != "greedy" {
		t.Fatalf("transcript %+v, want %q", got, want.Text)
	}
	for i, w := range got.Words {
		ww := want.Words[i]
		if w.Word != ww.Text || w.Start != ms(ww.Start) || w.End != ms(ww.End) || w.Confidence <= 0 || w.Confidence > 1 {
			t.Errorf("word %d: %+v, want %+v", i, w, ww)
		}
	}
	if got.Duration < 1.8 || got.Duration > 2 {
		t.Errorf("duration %v", got.Duration)
	}

	// A multipart upload, with a misleading Content-Type on the part.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "clip.mp3")
	fw.Write(wav)
	mw.Close()
	code, _, body := call(t, "POST", ts.URL+"/v1/transcribe?format=text", http.Header{"Content-Type": {mw.FormDataContentType()}}, &mp)
	if code != 200 || string(body) != want.Text+"\n" {
		t.Errorf("multipart, text: %d %q", code, body)
	}
	code, h, body := call(t, "POST", ts.URL+"/v1/transcribe?format=srt", http.Header{"Content-Type": {"image/png"}}, bytes.NewReader(wav))
	if code != 200 || !strings.HasPrefix(string(body), "1\n00:00:00,") || !strings.Contains(string(body), "comparatively") || !strings.Contains(h.Get("Content-Type"), "subrip") {
		t.Errorf("srt: %d %q", code, body)
	}
	b, err := c.TranscribeFormat(ctx, bytes.NewReader(wav), api.TranscribeOptions{Format: api.FormatVTT})
	if err != nil || !strings.HasPrefix(string(b), "WEBVTT\n\n00:00:00.") {
		t.Errorf("vtt: %v %q", err, b)
	}
	// Other containers and rates are decoded by content.
	for _, f := range []string{"flac_s16.flac", "mp3_mono.mp3", "speech8k.wav"} {
		if _, err := c.Transcribe(ctx, bytes.NewReader(readFile(t, "audio", f)), api.TranscribeOptions{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A beam search variant of the model, per request.
	beam := 4
	got, err = c.Transcribe(ctx, bytes.NewReader(wav), api.TranscribeOptions{Beam: &beam})
	if err != nil || got.Decoder != "beam(width=4)" || got.Text != want.Text {
		t.Errorf("beam 4: %v %+v", err, got)
	}
}

// TestTranscribeErrors checks every refusal of POST /v1/transcribe: the
// status and the message.
func TestTranscribeErrors(t *testing.T) {
	_, ts, _ := newServer(t, func(c *server.Config) { c.MaxBodyBytes = 300 << 10; c.MaxAudio = 5 * time.Second })
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0002.wav")
	long := readFile(t, "ljspeech", "wavs", "LJ001-0006.wav") // 5.7 s
	big := readFile(t, "ljspeech", "wavs", "LJ001-0001.wav")  // 416 KiB
	var noFile bytes.Buffer
	mw := multipart.NewWriter(&noFile)
	mw.WriteField("file_name", "x.wav")
	mw.Close()
	for _, c := range []struct {
		name, query string
		header      http.Header
		body        []byte
		code        int
		msg         string
	}{
		{"text", "", nil, []byte("hello, this is not audio"), 400, "malformed audio"},
		{"empty", "", nil, nil, 400, "malformed audio"},
		{"truncated wav", "", nil, wav[:30], 400, "malformed audio"},
		{"ogg vorbis", "", nil, readFile(t, "audio", "vorbis.ogg"), 400, "ffmpeg -i"},
		{"multipart without a file", "", http.Header{"Content-Type": {mw.FormDataContentType()}}, noFile.Bytes(), 400, `part named "file"`},
		{"bad beam", "?beam=wide", nil, wav, 400, "beam"},
		{"beam too wide", "?beam=100000", nil, wav, 400, "want 1 (greedy) to 64"},
		{"bad format", "?format=pdf", nil, wav, 400, "want json, text, srt or vtt"},
		{"lm weight without lm", "?lm_weight=0.5", nil, wav, 400, "without a language model"},
		{"no_lm and lm_weight", "?no_lm=true&lm_weight=0.5", nil, wav, 400, "no_lm"},
		{"nan weight", "?word_bonus=NaN", nil, wav, 400, "finite"},
		{"over the size limit", "", nil, big, 413, "over the limit of 300 KiB"},
		{"over the duration limit", "", nil, long, 413, "over the limit of 5s"},
	} {
		code, _, body := call(t, "POST", ts.URL+"/v1/transcribe"+c.query, c.header, bytes.NewReader(c.body))
		if code != c.code {
			t.Errorf("%s: status %d, want %d (%s)", c.name, code, c.code, body)
			continue
		}
		if msg := errorMessage(t, body); !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %q lacks %q", c.name, msg, c.msg)
		}
	}
}

// TestBusy fills the worker and the queue: the next request gets 503 with
// Retry-After, and the server recovers once the load goes.
func TestBusy(t *testing.T) {
	_, ts, c := newServer(t, func(c *server.Config) { c.Workers = 1; c.QueueSize = -1 })
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0008.wav")
	// The first request's upload does not end: it holds the only place.
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := c.Transcribe(context.Background(), pr, api.TranscribeOptions{})
		first <- err
	}()
	pw.Write(wav[:1000])
	var code int
	var h http.Header
	var body []byte
	for range 100 { // until the first request has been admitted
		code, h, body = call(t, "POST", ts.URL+"/v1/transcribe", nil, bytes.NewReader(wav))
		if code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(errorMessage(t, body), "busy") {
		t.Fatalf("with the queue full: %d %v %s", code, h, body)
	}
	pw.Write(wav[1000:])
	pw.Close()
	if err := <-first; err != nil {
		t.Fatalf("the first request: %v", err)
	}
	if _, err := c.Transcribe(context.Background(), bytes.NewReader(wav), api.TranscribeOptions{}); err != nil {
		t.Errorf("after the load: %v", err)
	}
	_, _, metrics := call(t, "GET", ts.URL+"/metrics", nil, nil)
	if !strings.Contains(string(metrics), "asr_transcribe_rejected_total 1") && !strings.Contains(string(metrics), "asr_transcribe_rejected_total 2") {
		t.Errorf("metrics lack the rejection:\n%s", grep(string(metrics), "rejected"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAuth checks the token: every /v1/ endpoint needs it (WebSockets may
// pass it as ?token=), /healthz and /metrics do not.
func TestAuth(t *testing.T) {
	_, ts, _ := newServer(t, func(c *server.Config) { c.Token = "s3cret" })
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0008.wav")
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for _, c := range []struct {
		method, path string
		header       http.Header
		body         []byte
		code         int
	}{
		{"GET", "/healthz", nil, nil, 200},
		{"GET", "/metrics", nil, nil, 200},
		{"GET", "/v1/models", nil, nil, 401},
		{"GET", "/v1/models", bearer("wrong"), nil, 401},
		{"GET", "/v1/models", http.Header{"Authorization": {"s3cret"}}, nil, 401},
		{"GET", "/v1/models", bearer("s3cret"), nil, 200},
		{"GET", "/v1/models?token=s3cret", nil, nil, 401}, // ?token= is for WebSockets only
		{"POST", "/v1/transcribe", nil, wav, 401},
		{"POST", "/v1/transcribe", bearer("s3cret"), wav, 200},
		{"GET", "/v1/train", nil, nil, 401},
		{"POST", "/v1/train", nil, []byte("{}"), 401},
		{"GET", "/v1/datasets", nil, nil, 401},
		{"GET", "/v1/stream", nil, nil, 401},
		{"GET", "/v1/nothing", nil, nil, 401},
	} {
		code, h, body := call(t, c.method, ts.URL+c.path, c.header, bytes.NewReader(c.body))
		if code != c.code {
			t.Errorf("%s %s %v: %d, want %d: %s", c.method, c.path, c.header, code, c.code, body)
		}
		if code == 401 && (h.Get("WWW-Authenticate") == "" || !strings.Contains(errorMessage(t, body), "token")) {
			t.Errorf("%s %s: 401 without WWW-Authenticate or message: %v %s", c.method, c.path, h, body)
		}
	}
	ctx := context.Background()
	for _, tok := range []string{"", "wrong"} {
		c, _ := api.NewClient(ts.URL, tok, nil)
		if _, err := c.Stream(ctx, 16000, api.TranscribeOptions{}); statusOf(err) != 401 {
			t.Errorf("stream with token %q: %v, want 401", tok, err)
		}
	}
	good, _ := api.NewClient(ts.URL, "s3cret", nil)
	st, err := good.Stream(ctx, 16000, api.TranscribeOptions{})
	if err != nil {
		t.Fatalf("stream with the token in a header: %v", err)
	}
	st.Close()
	// A browser cannot set headers: ?token= on the WebSocket URL.
	if st, err := dialStream(ctx, ts.URL+"/v1/stream?token=s3cret", nil); err != nil {
		t.Errorf("stream with ?token=: %v", err)
	} else {
		st.CloseNow()
	}
}

// TestNotFound checks the 404s and 405s, all in JSON.
func TestNotFound(t *testing.T) {
	_, ts, c := newServer(t, nil)
	ctx := context.Background()
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/train/nope"}, {"POST", "/v1/train/nope/stop"}, {"POST", "/v1/train/nope/resume"},
		{"GET", "/v1/train/nope/metrics"}, {"GET", "/v1/train/nope/checkpoints"}, {"POST", "/v1/train/nope/export"},
		{"GET", "/v1/train/nope/events"}, {"GET", "/v1/train/..%2f..%2fetc/checkpoints"}, {"GET", "/v1/nothing"}, {"GET", "/nothing"},
	} {
		code, _, body := call(t, p.method, ts.URL+p.path, nil, nil)
		if code != 404 {
			t.Errorf("%s %s: %d %s", p.method, p.path, code, body)
			continue
		}
		errorMessage(t, body)
	}
	code, h, body := call(t, "DELETE", ts.URL+"/v1/models", nil, nil)
	if code != 405 || !strings.Contains(h.Get("Allow"), "GET") || !strings.Contains(errorMessage(t, body), "not allowed") {
		t.Errorf("DELETE /v1/models: %d %v %s", code, h, body)
	}
	if _, err := c.LoadModel(ctx, api.LoadModelRequest{Path: "no-such-model"}); statusOf(err) != 404 {
		t.Errorf("loading a missing model: %v", err)
	}
	if err := c.FollowEvents(ctx, "nope", func(api.TrainEvent) error { return nil }); statusOf(err) != 404 {
		t.Errorf("events of a missing job: %v", err)
	}
}

// TestServeShutdown checks the graceful shutdown of Serve: a request in
// flight finishes, a WebSocket session is closed with "going away", new
// connections are refused, and Serve returns nil.
func TestServeShutdown(t *testing.T) {
	srv, err := server.New(server.Config{DataRoot: t.TempDir(), CheckpointRoot: t.TempDir(), Model: testModel(t), Backend: "go", Executable: "/bin/false"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	c, _ := api.NewClient(url, "", nil)
	if _, err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := c.Stream(context.Background(), 16000, api.TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A request whose upload is still going when the shutdown begins.
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0008.wav")
	pr, pw := io.Pipe()
	inFlight := make(chan error, 1)
	go func() {
		tr, err := c.Transcribe(context.Background(), pr, api.TranscribeOptions{})
		if err == nil && tr.Text != "has never been surpassed" {
			err = errors.New("transcript " + tr.Text)
		}
		inFlight <- err
	}()
	pw.Write(wav[:len(wav)/2])
	time.Sleep(200 * time.Millisecond)
	stop()
	if _, err := st.Recv(context.Background()); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("the stream at shutdown: %v, want a close with status 1001", err)
	}
	time.Sleep(200 * time.Millisecond)
	pw.Write(wav[len(wav)/2:])
	pw.Close()
	if err := <-inFlight; err != nil {
		t.Errorf("the request in flight: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := c.Health(context.Background()); err == nil {
		t.Error("the server still answers after the shutdown")
	}
}

// TestGUIHook serves a web interface at "/" through Config.GUI: its pages
// need no token, and the API routes keep their handlers.
func TestGUIHook(t *testing.T) {
	gui := fstest.MapFS{"index.html": {Data: []byte("<h1>asr</h1>")}, "app.js": {Data: []byte("1")}}
	_, ts, _ := newServer(t, func(c *server.Config) { c.GUI = http.FileServerFS(gui); c.Token = "t" })
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/", 200, "<h1>asr</h1>"},
		{"/app.js", 200, "1"},
		{"/healthz", 200, `"status":"ok"`},
		{"/v1/models", 401, "token"},
	} {
		code, _, body := call(t, "GET", ts.URL+c.path, nil, nil)
		if code != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s: %d %q", c.path, code, body)
		}
	}
}
