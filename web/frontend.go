package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/asrkit/asrkit/api"
)

// DefaultHealthTimeout bounds the frontend's check of the API in /healthz.
const DefaultHealthTimeout = 5 * time.Second

// FrontendConfig configures [NewFrontend]. Every zero field means the
// default named on it.
type FrontendConfig struct {
	// API is the base URL of the asr serve API, e.g.
	// "http://asr-api:8000". Required.
	API string
	// HealthTimeout bounds the check of the API that /healthz makes. Zero
	// means 5 seconds.
	HealthTimeout time.Duration
	// Transport carries the requests to the API. Nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives the access log of the proxied requests and the
	// proxy's errors. Nil means none.
	Logger *slog.Logger
}

// Frontend is the web interface as a service of its own (`asr gui`, the
// compose frontend): it serves the pages, proxies /v1/ (HTTP and
// WebSocket) to the API, and answers /healthz with the API's health.
// Create it with [NewFrontend]; it is an http.Handler.
type Frontend struct {
	api     *url.URL
	pages   http.Handler
	proxy   *httputil.ReverseProxy
	health  *http.Client
	timeout time.Duration
	log     *slog.Logger

	closing context.Context // cancelled by CloseWebSockets
	closeWS context.CancelFunc
}

// FrontendHealth is the response of the frontend's GET /healthz: 200 when
// the API answers its /healthz, 503 otherwise.
type FrontendHealth struct {
	// Status is "ok" when the API answers, else "unavailable".
	Status string `json:"status"`
	// API is the API's base URL.
	API string `json:"api"`
	// APIHealth is the API's own /healthz answer, when it gave one.
	APIHealth *api.Health `json:"api_health,omitempty"`
	// Error says why the API is unavailable.
	Error string `json:"error,omitempty"`
}

// NewFrontend checks the API's URL and returns the frontend. The proxy
// forwards what the browser sends, the token included (the Authorization
// header, and ?token= of WebSockets), and keeps the browser's Host, so that
// the API's same-origin check of WebSockets sees the page's own origin.
func NewFrontend(cfg FrontendConfig) (*Frontend, error) {
	if cfg.API == "" {
		return nil, errors.New("web: the API's URL is required (e.g. http://asr-api:8000)")
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.API, "/"))
	if err != nil {
		return nil, fmt.Errorf("web: the API's URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("web: the API's URL %q: want http://HOST:PORT or https://HOST:PORT", cfg.API)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("web: the API's URL %q: give the scheme, host, port and an optional path only", cfg.API)
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = DefaultHealthTimeout
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Frontend{
		api:     u,
		pages:   Handler(),
		health:  &http.Client{Transport: cfg.Transport, Timeout: cfg.HealthTimeout},
		timeout: cfg.HealthTimeout,
		log:     cfg.Logger,
	}
	f.closing, f.closeWS = context.WithCancel(context.Background())
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host
		},
		Transport:     cfg.Transport,
		FlushInterval: -1, // stream answers as they come
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			code := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) {
				code = http.StatusGatewayTimeout
			}
			if r.Context().Err() != nil {
				return // the browser went away
			}
			f.log.Warn("proxy", "method", r.Method, "path", r.URL.Path, "err", err)
			writeJSON(w, code, api.Error{Error: fmt.Sprintf("the API at %s does not answer: %v", u, err)})
		},
	}
	return f, nil
}

// ServeHTTP serves /healthz, /v1/ (proxied) and the pages.
func (f *Frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, api.Error{Error: r.Method + " is not allowed on /healthz"})
			return
		}
		h := f.checkAPI(r.Context())
		code := http.StatusOK
		if h.Status != "ok" {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, h)
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			// The proxied connection ends with the request's context.
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(f.closing, cancel)
			defer stop()
			r = r.WithContext(ctx)
		}
		f.proxy.ServeHTTP(rec, r)
		f.log.Info("proxy", "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	default:
		f.pages.ServeHTTP(w, r)
	}
}

// CloseWebSockets ends the proxied WebSocket connections, open and future
// (http.Server.Shutdown does not close them: register it with
// RegisterOnShutdown).
func (f *Frontend) CloseWebSockets() { f.closeWS() }

// checkAPI asks the API's /healthz.
func (f *Frontend) checkAPI(ctx context.Context) FrontendHealth {
	h := FrontendHealth{Status: "unavailable", API: f.api.String()}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.api.String()+"/healthz", nil)
	if err != nil {
		h.Error = err.Error()
		return h
	}
	resp, err := f.health.Do(req)
	if err != nil {
		h.Error = err.Error()
		return h
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		h.Error = "reading the API's /healthz: " + err.Error()
		return h
	}
	var ah api.Health
	if err := json.Unmarshal(body, &ah); err != nil {
		h.Error = fmt.Sprintf("the API's /healthz answered %s with no health report: %.120q", resp.Status, body)
		return h
	}
	h.APIHealth = &ah
	if resp.StatusCode != http.StatusOK || ah.Status != "ok" {
		h.Error = fmt.Sprintf("the API's /healthz answered %s, status %q", resp.Status, ah.Status)
		return h
	}
	h.Status = "ok"
	return h
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// statusRecorder records a response's status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets the proxy reach the connection (flushes, WebSocket upgrades).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
