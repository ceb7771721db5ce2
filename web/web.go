package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Files returns the pages: index.html at the root, the stylesheet, the
// JavaScript modules under js/ and the vendored libraries under vendor/.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is there by construction
	}
	return sub
}

// contentSecurityPolicy allows the page's own origin only: no inline
// scripts, no fonts or scripts from elsewhere. Images and audio may be
// blobs (the uploaded audio, the spectrogram); WebSockets go to the page's
// own host ('self' covers ws: and wss: there).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// file is one embedded file, ready to serve.
type file struct {
	data []byte
	etag string
}

// pages serves the embedded files.
type pages struct {
	files map[string]file
	start time.Time
}

// Handler serves the web interface: "/" is the single page (index.html),
// the other paths its files. Every response carries a strict Content
// Security Policy; files are revalidated with their content hash (ETag) so
// a new binary's pages are never mixed with cached old ones. Only GET and
// HEAD are allowed. The pages call the API at /v1/ on their own origin:
// mount Handler beside the API (asr serve does, through
// server.Config.GUI), or behind a proxy of /v1/ ([NewFrontend]).
func Handler() http.Handler {
	p := &pages{files: map[string]file{}, start: time.Now()}
	err := fs.WalkDir(Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		p.files["/"+name] = file{data: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	return p
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed here", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean("/" + r.URL.Path)
	if name == "/" {
		name = "/index.html"
	}
	f, ok := p.files[name]
	if !ok || strings.HasSuffix(name, ".md") {
		http.Error(w, "no such page: "+r.URL.Path, http.StatusNotFound)
		return
	}
	if name == "/index.html" {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	if ct := contentType(name); ct != "" {
		h.Set("Content-Type", ct)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

// contentType is the type of the files the pages have (JavaScript modules
// need a JavaScript type; the system's MIME table may lack some).
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".webmanifest":
		return "application/manifest+json"
	}
	return ""
}
