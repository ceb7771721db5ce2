package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTranscribeOptionsValues(t *testing.T) {
	beam, w, b := 8, 0.5, -1.25
	for _, c := range []struct {
		o    TranscribeOptions
		want string
	}{
		{TranscribeOptions{}, ""},
		{TranscribeOptions{Format: FormatSRT, Beam: &beam}, "beam=8&format=srt"},
		{TranscribeOptions{LMWeight: &w, WordBonus: &b, NoLM: true}, "lm_weight=0.5&no_lm=true&word_bonus=-1.25"},
	} {
		if got := c.o.Values().Encode(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
}

func TestJobStateActive(t *testing.T) {
	for s, want := range map[JobState]bool{
		JobStarting: true, JobPreparing: true, JobTraining: true, JobEvaluating: true, JobStopping: true,
		JobFinished: false, JobStopped: false, JobFailed: false, JobInterrupted: false,
	} {
		if s.Active() != want {
			t.Errorf("%s.Active() = %v", s, !want)
		}
	}
}

// TestClientErrors checks that every failure is a *StatusError with the
// server's message, and that the token is sent.
func TestClientErrors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer tok":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": "missing or wrong token"}`))
		case r.URL.Path == "/v1/train/x":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error": "no training job \"x\""}`))
		case r.URL.Path == "/v1/models":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("upstream down\n"))
		default:
			w.Write([]byte(`{"status": "ok", "version": "v"}`))
		}
	}))
	defer ts.Close()
	ctx := context.Background()
	if _, err := NewClient("localhost:8000", "", nil); err == nil {
		t.Error("a URL without a scheme was accepted")
	}
	good, _ := NewClient(ts.URL+"/", "tok", nil)
	if h, err := good.Health(ctx); err != nil || h.Version != "v" {
		t.Errorf("health: %v %+v", err, h)
	}
	var se *StatusError
	if _, err := good.Job(ctx, "x"); !errors.As(err, &se) || se.StatusCode != 404 || se.Message != `no training job "x"` {
		t.Errorf("404: %v", err)
	}
	if _, err := good.Models(ctx); !errors.As(err, &se) || se.StatusCode != 502 || se.Message != "upstream down" {
		t.Errorf("a non-JSON error: %v", err)
	}
	bad, _ := NewClient(ts.URL, "wrong", nil)
	if _, err := bad.Jobs(ctx); !errors.As(err, &se) || se.StatusCode != 401 || !strings.Contains(err.Error(), "401 Unauthorized: missing or wrong token") {
		t.Errorf("401: %v", err)
	}
	if _, err := bad.Stream(ctx, 16000, TranscribeOptions{}); !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("a WebSocket refused with 401: %v", err)
	}
	if _, err := good.Transcribe(ctx, strings.NewReader(""), TranscribeOptions{Format: FormatText}); err == nil {
		t.Error("Transcribe accepted a text format")
	}
}
