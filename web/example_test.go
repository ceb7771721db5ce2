package web_test

import (
	"log"
	"net/http"

	"github.com/asrkit/asrkit/web"
)

// The pages beside an API on one server: what asr serve does through
// server.Config.GUI.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) { /* the API */ })
	mux.Handle("/", web.Handler())
	_ = http.ListenAndServe(":8000", mux)
}

// The pages as a service of their own, proxying /v1/ to the API: what
// `asr gui --listen :8501 --api http://asr-api:8000` does.
func ExampleNewFrontend() {
	fe, err := web.NewFrontend(web.FrontendConfig{API: "http://asr-api:8000"})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8501", Handler: fe}
	srv.RegisterOnShutdown(fe.CloseWebSockets) // Shutdown does not close WebSockets
	_ = srv.ListenAndServe()
}
