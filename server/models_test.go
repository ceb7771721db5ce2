package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/server"
)

// copyDir copies the files of a folder (one level).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModels lists and switches models: by name under the checkpoint
// root, back to the bundled one, refusing paths outside the roots and
// directories that are not models; a stream open on the old model
// finishes on it.
func TestModels(t *testing.T) {
	ckpt := t.TempDir()
	copyDir(t, testModel(t), filepath.Join(ckpt, "exp", "model"))
	os.MkdirAll(filepath.Join(ckpt, "empty"), 0o755)
	_, _, c := newServer(t, func(cfg *server.Config) { cfg.CheckpointRoot = ckpt })
	ctx := context.Background()
	list, err := c.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list.Loaded.Path != testModel(t) || list.Loaded.Kind != api.KindModel || list.Loaded.Decoder != "greedy" || list.Loaded.SampleRate != 16000 || list.Loaded.Preset != "tiny" {
		t.Errorf("loaded: %+v", list.Loaded)
	}
	names := map[string]api.ModelInfo{}
	for _, m := range list.Available {
		names[m.Name] = m
	}
	if m, ok := names["exp/model"]; !ok || m.Job != "exp" || m.Kind != api.KindModel || m.Step == 0 {
		t.Errorf("available %+v lacks exp/model", list.Available)
	}
	if _, ok := names[testModel(t)]; !ok {
		t.Errorf("available %+v lacks the startup model", list.Available)
	}
	if _, ok := names["bundled"]; !ok {
		t.Errorf("available %+v lacks the bundled model", list.Available)
	}

	// A stream opened now keeps the old model until it ends.
	pcm := pcm16(t, readFile(t, "ljspeech", "wavs", "LJ001-0008.wav"))
	st, err := c.Stream(ctx, 22050, api.TranscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(ctx, pcm[:len(pcm)/2]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(ctx); err != nil {
		t.Fatal(err)
	}

	info, err := c.LoadModel(ctx, api.LoadModelRequest{Path: "exp/model"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "exp/model" || info.Job != "exp" || info.LoadedAt.IsZero() {
		t.Errorf("loaded %+v", info)
	}
	tr, err := c.Transcribe(ctx, bytes.NewReader(readFile(t, "ljspeech", "wavs", "LJ001-0008.wav")), api.TranscribeOptions{})
	if err != nil || tr.Model != "exp/model" || tr.Text != "has never been surpassed" {
		t.Errorf("after the switch: %v %+v", err, tr)
	}
	if err := st.Send(ctx, pcm[len(pcm)/2:]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	final, err := st.Finish(ctx)
	if err != nil || final.Text == nil || *final.Text != "has never been surpassed" {
		t.Errorf("the stream on the old model: %v %+v", err, final)
	}

	for _, c2 := range []struct {
		req  api.LoadModelRequest
		code int
		msg  string
	}{
		{api.LoadModelRequest{Path: "/etc"}, 400, "outside the data root"},
		{api.LoadModelRequest{Path: "../../etc"}, 400, "outside the data root"},
		{api.LoadModelRequest{Path: "empty"}, 400, "neither manifest.json"},
		{api.LoadModelRequest{Path: "missing"}, 404, "no such directory"},
		{api.LoadModelRequest{Path: "exp/model", LMWeight: ptr(0.5)}, 400, "without a language model"},
	} {
		_, err := c.LoadModel(ctx, c2.req)
		if statusOf(err) != c2.code || !strings.Contains(err.Error(), c2.msg) {
			t.Errorf("load %+v: %v, want %d %q", c2.req, err, c2.code, c2.msg)
		}
	}
	if _, err := c.Models(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.Models(ctx); m.Loaded.Name != "exp/model" {
		t.Errorf("a failed load changed the model: %+v", m.Loaded)
	}
	info, err = c.LoadModel(ctx, api.LoadModelRequest{Path: "bundled", NoLM: true, Beam: ptr(3)})
	if err != nil || info.Kind != api.KindBundled || info.Decoder != "beam(width=3)" {
		t.Errorf("back to the bundled model: %v %+v", err, info)
	}
	// The startup model may be named by its path, wherever it is.
	if _, err := c.LoadModel(ctx, api.LoadModelRequest{Path: testModel(t)}); err != nil {
		t.Errorf("reloading the startup model: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
