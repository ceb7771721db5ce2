package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/asrkit/asrkit/api"
)

// maxConfigBytes bounds a posted training config.
const maxConfigBytes = 1 << 20

// routes builds the handler: every endpoint, behind the access log, the
// metrics, CORS and the token check.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.health()) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))

	mux.HandleFunc("POST /v1/transcribe", s.handleTranscribe)
	mux.HandleFunc("GET /v1/stream", s.handleStream)
	mux.HandleFunc("POST /v1/spectrogram", s.handleSpectrogram)
	mux.Handle("GET /v1/models", handle(http.StatusOK, func(*http.Request) (any, error) {
		return api.Models{Loaded: s.models.current().info, Available: s.available()}, nil
	}))
	mux.HandleFunc("POST /v1/models/load", func(w http.ResponseWriter, r *http.Request) {
		var req api.LoadModelRequest
		if err := decodeJSON(w, r, &req, false); err != nil {
			writeError(w, err)
			return
		}
		handle(http.StatusOK, func(*http.Request) (any, error) { return s.models.switchTo(req) })(w, r)
	})

	mux.HandleFunc("POST /v1/train", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConfigBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, errorf(http.StatusRequestEntityTooLarge, "a training config must be under %s", byteSize(maxConfigBytes)))
				return
			}
			writeError(w, errorf(http.StatusBadRequest, "reading the config: %v", err))
			return
		}
		name := r.URL.Query().Get("name")
		if name != "" {
			if err := checkJobID(name); err != nil {
				writeError(w, err)
				return
			}
		}
		if dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run")); dry {
			handle(http.StatusOK, func(*http.Request) (any, error) { return s.jobs.check(raw, name) })(w, r)
			return
		}
		handle(http.StatusCreated, func(*http.Request) (any, error) { return s.jobs.create(raw, name) })(w, r)
	})
	mux.Handle("GET /v1/train", handle(http.StatusOK, func(*http.Request) (any, error) {
		list, err := s.jobs.list()
		return api.JobList{Jobs: list}, err
	}))
	mux.Handle("GET /v1/train/{id}", handle(http.StatusOK, func(r *http.Request) (any, error) {
		return s.jobs.describe(r.PathValue("id"))
	}))
	mux.Handle("POST /v1/train/{id}/stop", handle(http.StatusAccepted, func(r *http.Request) (any, error) {
		return s.jobs.stop(r.PathValue("id"))
	}))
	mux.Handle("POST /v1/train/{id}/resume", handle(http.StatusAccepted, func(r *http.Request) (any, error) {
		return s.jobs.resume(r.PathValue("id"))
	}))
	mux.Handle("GET /v1/train/{id}/metrics", handle(http.StatusOK, func(r *http.Request) (any, error) {
		return s.metricsHistory(r.PathValue("id"))
	}))
	mux.Handle("GET /v1/train/{id}/checkpoints", handle(http.StatusOK, func(r *http.Request) (any, error) {
		return s.checkpoints(r.PathValue("id"))
	}))
	mux.HandleFunc("POST /v1/train/{id}/export", func(w http.ResponseWriter, r *http.Request) {
		var req api.ExportRequest
		if err := decodeJSON(w, r, &req, true); err != nil {
			writeError(w, err)
			return
		}
		handle(http.StatusOK, func(r *http.Request) (any, error) { return s.export(r.PathValue("id"), req) })(w, r)
	})
	mux.HandleFunc("GET /v1/train/{id}/events", s.handleEvents)

	mux.Handle("GET /v1/datasets", handle(http.StatusOK, func(*http.Request) (any, error) { return s.datasets(), nil }))
	mux.HandleFunc("POST /v1/datasets/check", func(w http.ResponseWriter, r *http.Request) {
		var req api.DatasetCheckRequest
		if err := decodeJSON(w, r, &req, false); err != nil {
			writeError(w, err)
			return
		}
		handle(http.StatusOK, func(r *http.Request) (any, error) { return s.checkDataset(r, req) })(w, r)
	})
	if s.cfg.GUI != nil {
		mux.Handle("/", s.cfg.GUI)
	}
	return s.middleware(mux)
}

// middleware wraps the mux: access log and metrics around everything;
// CORS and the token for the API; JSON bodies for the mux's own 404 and
// 405 answers.
func (s *Server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &recorder{ResponseWriter: w, code: http.StatusOK}
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		defer func() {
			code := strconv.Itoa(rw.code)
			s.metrics.requests.WithLabelValues(route, code).Inc()
			if rw.code != http.StatusSwitchingProtocols {
				s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
			}
			level := slog.LevelInfo
			if route == "GET /healthz" || route == "GET /metrics" {
				level = slog.LevelDebug
			}
			s.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "route", route,
				"status", rw.code, "bytes", rw.bytes, "ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
		}()
		isAPI := strings.HasPrefix(r.URL.Path, "/v1/")
		if isAPI && !s.cors(rw, r) {
			return
		}
		if isAPI && !s.authorized(r) {
			rw.Header().Set("WWW-Authenticate", `Bearer realm="asr"`)
			writeError(rw, errorf(http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <ASR_API_TOKEN>"))
			return
		}
		if route == "unmatched" {
			// The mux's 404 and 405 are plain text: answer in JSON.
			probe := &recorder{ResponseWriter: discardWriter{h: http.Header{}}, code: http.StatusOK}
			mux.ServeHTTP(probe, r)
			if allow := probe.Header().Get("Allow"); allow != "" {
				rw.Header().Set("Allow", allow)
			}
			msg := "no such endpoint: " + r.Method + " " + r.URL.Path + " (see the README's API section)"
			if probe.code == http.StatusMethodNotAllowed {
				msg = r.Method + " is not allowed on " + r.URL.Path
			}
			writeError(rw, errorf(probe.code, "%s", msg))
			return
		}
		mux.ServeHTTP(rw, r)
	})
}

// authorized checks the Bearer token (constant-time); WebSocket handshakes
// may give it as ?token= instead, as browsers cannot set their headers.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		got, ok = r.URL.Query().Get("token"), true
	}
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.Token)) == 1
}

// originAllowed reports whether a browser page of the request's Origin may
// use the API: the same host, or one of Config.AllowOrigins. Requests
// without an Origin (not from a browser) are allowed.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range s.cfg.AllowOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// cors adds the CORS headers for allowed origins and answers preflight
// requests; it returns false when the request has been answered. CORS is
// off (no headers) unless Config.AllowOrigins names other origins.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || len(s.cfg.AllowOrigins) == 0 || !s.originAllowed(r) {
		return true
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// acceptWebSocket upgrades the request after the origin check (403 for a
// page of another origin that Config.AllowOrigins does not name), and
// counts the session for the graceful shutdown.
func (s *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	if !s.originAllowed(r) {
		writeError(w, errorf(http.StatusForbidden, "WebSocket from origin %s refused: start the server with --allow-origin for it", r.Header.Get("Origin")))
		return nil, false
	}
	if !s.sessions.add() {
		writeError(w, &statusError{code: http.StatusServiceUnavailable, msg: "the server is shutting down", retryAfter: retryAfter})
		return nil, false
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // origin checked above
	if err != nil {
		s.sessions.done()
		return nil, false // Accept answered the request
	}
	return conn, true
}

// tracker counts the WebSocket sessions, for the graceful shutdown.
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{}
}

func newTracker() *tracker { return &tracker{idle: make(chan struct{})} }

// add counts a new session, unless the server is closing.
func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.closed {
		close(t.idle)
	}
}

// closeAndWait refuses new sessions and waits for the open ones to end.
func (t *tracker) closeAndWait(ctx context.Context) {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		if t.n == 0 {
			close(t.idle)
		}
	}
	t.mu.Unlock()
	select {
	case <-t.idle:
	case <-ctx.Done():
	}
}

// recorder records a response's status and size.
type recorder struct {
	http.ResponseWriter
	code        int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController and WebSocket upgrades reach the
// connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// discardWriter is a ResponseWriter that keeps nothing but the headers.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
