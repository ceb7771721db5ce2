package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/asrkit/asrkit/api"
)

func TestHandler(t *testing.T) {
	ts := httptest.NewServer(Handler())
	defer ts.Close()
	for _, tt := range []struct {
		method, path string
		code         int
		ctype, body  string
		csp          bool
	}{
		{"GET", "/", 200, "text/html", "<title", true},
		{"GET", "/index.html", 200, "text/html", "<title", true},
		{"HEAD", "/", 200, "text/html", "", true},
		{"GET", "/js/app.js", 200, "text/javascript", "import", false},
		{"GET", "/app.css", 200, "text/css", "", false},
		{"GET", "/vendor/uplot/uPlot.esm.js", 200, "text/javascript", "", false},
		{"GET", "/vendor/uplot/README.md", 404, "", "", false},
		{"GET", "/nothing.js", 404, "", "no such page", false},
		{"GET", "/../../etc/passwd", 404, "", "", false},
		{"POST", "/", 405, "", "not allowed", false},
	} {
		req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s %s: %s, want %d", tt.method, tt.path, resp.Status, tt.code)
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tt.method, tt.path, resp.Header.Get("Content-Type"), tt.ctype)
		}
		if !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: body %.100q, want %q in it", tt.method, tt.path, body, tt.body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); tt.csp != strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s %s: Content-Security-Policy %q", tt.method, tt.path, csp)
		}
		if tt.code == 200 {
			if resp.Header.Get("ETag") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: headers %v", tt.method, tt.path, resp.Header)
			}
		}
	}
	// Revalidation with the content hash.
	resp, err := http.Get(ts.URL + "/js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/js/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %s, want 304", resp.Status)
	}
}

// TestHandlerNoExternalRequests: the pages name no other origin (no fonts,
// scripts or styles from a CDN).
func TestHandlerNoExternalRequests(t *testing.T) {
	for name, f := range Handler().(*pages).files {
		if strings.HasPrefix(name, "/vendor/") {
			continue // the vendored library's comments cite its site
		}
		// XML namespaces are names, not requests; "https:// pages" is a message.
		text := strings.NewReplacer("http://www.w3.org/", "", "https:// ", "").Replace(string(f.data))
		for _, bad := range []string{"http://", "https://", "//fonts.", "@import url("} {
			if i := strings.Index(text, bad); i >= 0 {
				t.Errorf("%s names another origin: %q", name, text[max(0, i-40):min(len(text), i+60)])
			}
		}
	}
}

// fakeAPI is an API that wants a token, echoes what reaches it, and has a
// WebSocket that answers each message with it in upper case.
func fakeAPI(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, api.Health{Status: "ok"})
	})
	mux.HandleFunc("/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			writeJSON(w, 401, api.Error{Error: "a token is needed"})
			return
		}
		body, _ := io.ReadAll(r.Body)
		writeJSON(w, 200, map[string]string{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body), "host": r.Host})
	})
	mux.HandleFunc("/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "tok" {
			writeJSON(w, 401, api.Error{Error: "a token is needed"})
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, []byte(strings.ToUpper(string(msg)))); err != nil {
				return
			}
		}
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestFrontend(t *testing.T) {
	apiTS := fakeAPI(t)
	fe, err := NewFrontend(FrontendConfig{API: apiTS.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fe)
	defer ts.Close()
	defer fe.CloseWebSockets()

	// The pages.
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}

	// HTTP: the token and the body reach the API; its answers come back.
	for _, tt := range []struct {
		token string
		code  int
	}{{"", 401}, {"tok", 200}} {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/echo?a=1", strings.NewReader("hello"))
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("token %q: %s, want %d", tt.token, resp.Status, tt.code)
		}
		if tt.code == 200 && (got["body"] != "hello" || got["query"] != "a=1" || got["path"] != "/v1/echo" || got["host"] != strings.TrimPrefix(ts.URL, "http://")) {
			t.Errorf("the API saw %v", got)
		}
	}

	// WebSocket, with ?token=.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/v1/ws", nil); err == nil {
		t.Error("a WebSocket without the token was accepted")
	}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/v1/ws?token=tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("partial")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "PARTIAL" {
		t.Fatalf("WebSocket answer %q, %v", msg, err)
	}
	// CloseWebSockets ends the proxied connection.
	fe.CloseWebSockets()
	if _, _, err := c.Read(ctx); err == nil {
		t.Error("the WebSocket is still open after CloseWebSockets")
	}

	// /healthz: the API's health.
	var h FrontendHealth
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Status != "ok" || h.APIHealth == nil {
		t.Errorf("healthz: %s %+v", resp.Status, h)
	}
}

func TestFrontendAPIDown(t *testing.T) {
	apiTS := httptest.NewServer(http.NotFoundHandler())
	url := apiTS.URL
	apiTS.Close() // nothing listens there now
	fe, err := NewFrontend(FrontendConfig{API: url, HealthTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(fe)
	defer ts.Close()
	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/healthz", 503, `"status":"unavailable"`},
		{"/v1/models", 502, "does not answer"},
	} {
		resp, err := http.Get(ts.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s: %s %s, want %d with %q", tt.path, resp.Status, body, tt.code, tt.want)
		}
	}
}

func TestNewFrontendErrors(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"", "required"},
		{"asr-api:8000", "want http://HOST:PORT"},
		{"ftp://asr-api:8000", "want http://HOST:PORT"},
		{"http://", "want http://HOST:PORT"},
		{"http://asr-api:8000/?x=1", "optional path only"},
		{"http://user:pw@asr-api:8000", "optional path only"},
		{"http://a b", "the API's URL"},
	} {
		if _, err := NewFrontend(FrontendConfig{API: tt.url}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewFrontend(%q): %v, want %q", tt.url, err, tt.want)
		}
	}
}
