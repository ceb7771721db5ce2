package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/asrkit/asrkit/server"
)

// asrWrapper writes a stand-in "asr" binary: a script that runs this test
// binary as TestHelperASRProcess with its arguments, so the server's
// training jobs are real `asr train` processes.
func asrWrapper(t *testing.T) string {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "asr")
	body := fmt.Sprintf("#!/bin/sh\n%s=\"$(printf '%%s\\n' \"$@\")\"\nexport %s\nexec %q -test.run='^TestHelperASRProcess$'\n",
		asrProcessEnv, asrProcessEnv, os.Args[0])
	if err := os.WriteFile(wrapper, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper
}

// serveRoots makes a data root holding two manifests of testdata's short
// synthetic clips, and an empty checkpoint root.
func serveRoots(t *testing.T) (data, ckpt string) {
	t.Helper()
	data, ckpt = t.TempDir(), t.TempDir()
	wavs := testutil.Path(t, "corpus", "wavs")
	texts := map[string]string{"SYN-0001": "printing is an art", "SYN-0002": "the press was new", "SYN-0003": "he read the old book", "SYN-0004": "type was cast in metal"}
	row := func(id string) string {
		return fmt.Sprintf("{\"id\": %q, \"audio_filepath\": %q, \"text\": %q}\n", id, filepath.Join(wavs, id+".wav"), texts[id])
	}
	os.MkdirAll(filepath.Join(data, "tiny"), 0o755)
	os.WriteFile(filepath.Join(data, "tiny", "train.jsonl"), []byte(row("SYN-0001")+row("SYN-0002")+row("SYN-0003")+row("SYN-0004")), 0o644)
	os.WriteFile(filepath.Join(data, "tiny", "val.jsonl"), []byte(strings.Replace(row("SYN-0002"), `"SYN-0002"`, `"val-SYN-0002"`, 1)), 0o644)
	return data, ckpt
}

// serveConfig is a training config of steps steps for the server: paths
// relative to the data root.
func serveConfig(steps int) []byte {
	return fmt.Appendf(nil, `datasets:
  manifests:
    train: tiny/train.jsonl
    val: tiny/val.jsonl
  workers: 2
  batching:
    buckets: [192]
    max_frames: 384
model:
  preset: tiny
train:
  backend: go
  steps: %d
  learning_rate: 3.0e-3
  warmup_steps: 1
  eval_every: 4
  seed: 1
checkpoint:
  every: 2
log:
  every: 1
`, steps)
}

// testServer is a server over httptest with its client.
type testServer struct {
	srv    *server.Server
	ts     *httptest.Server
	client *api.Client
}

func startServer(t *testing.T, data, ckpt string, resume bool) *testServer {
	t.Helper()
	srv, err := server.New(server.Config{
		DataRoot: data, CheckpointRoot: ckpt, Model: testutil.Path(t, "models", "tiny-cpu"), Backend: "go",
		Executable: asrWrapper(t), ResumeJobs: resume, ShutdownTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	c, err := api.NewClient(ts.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{srv: srv, ts: ts, client: c}
}

// stop shuts the server down as a redeploy would: the training job gets
// SIGTERM and saves a checkpoint.
func (s *testServer) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.srv.Shutdown(ctx)
	s.ts.Close()
	s.srv.Close()
}

// waitJob polls a job until cond holds.
func waitJob(t *testing.T, c *api.Client, id string, what string, cond func(*api.Job) bool) *api.Job {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j, err := c.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
		if j.State == api.JobFailed {
			t.Fatalf("job %s failed while waiting for %s: %s", id, what, j.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: gave up waiting for %s: %+v", id, what, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func statusCode(err error) int {
	var se *api.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// TestServeTrainingLifecycle runs a real training child process through
// the API: started and followed over the WebSocket, stopped, resumed,
// interrupted by a server shutdown and resumed by the next server
// (--resume-jobs) to the end; then its metrics, checkpoints and export,
// and the exported model served and used.
func TestServeTrainingLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training processes")
	}
	data, ckpt := serveRoots(t)
	a := startServer(t, data, ckpt, false)
	ctx := context.Background()
	const steps = 30 // enough that the restart below lands mid-training on a fast machine
	job, err := a.client.Train(ctx, serveConfig(steps), "life")
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "life" || !job.State.Active() || job.RunDir != filepath.Join(ckpt, "life") {
		t.Fatalf("new job %+v", job)
	}
	if _, err := a.client.Train(ctx, serveConfig(steps), "second"); statusCode(err) != http.StatusConflict {
		t.Errorf("a second job while one runs: %v, want 409", err)
	}

	// Follow the events until a checkpoint is saved.
	var (
		mu     sync.Mutex
		events []api.TrainEvent
	)
	followCtx, stopFollowing := context.WithCancel(ctx)
	followed := make(chan error, 1)
	checkpointed := make(chan struct{})
	go func() {
		once := sync.Once{}
		followed <- a.client.FollowEvents(followCtx, "life", func(e api.TrainEvent) error {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			if e.Type == api.EventCheckpoint {
				once.Do(func() { close(checkpointed) })
			}
			return nil
		})
	}()
	select {
	case <-checkpointed:
	case <-time.After(3 * time.Minute):
		j, _ := a.client.Job(ctx, "life")
		t.Fatalf("no checkpoint event within 3 minutes; job %+v", j)
	}
	if _, err := a.client.StopJob(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	stopped := waitJob(t, a.client, "life", "stopped", func(j *api.Job) bool { return j.State == api.JobStopped })
	if stopped.Step >= steps || stopped.PID != 0 {
		t.Fatalf("stopped job %+v", stopped)
	}
	if _, err := a.client.StopJob(ctx, "life"); statusCode(err) != http.StatusConflict {
		t.Errorf("stopping a stopped job: %v, want 409", err)
	}
	// The follower saw the whole story: history, then the stop.
	waitEvent := func(what string, match func(api.TrainEvent) bool) {
		t.Helper()
		for range 100 {
			mu.Lock()
			for _, e := range events {
				if match(e) {
					mu.Unlock()
					return
				}
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("the event stream lacks %s", what)
	}
	waitEvent("the stopped state", func(e api.TrainEvent) bool { return e.State != nil && e.State.State == api.JobStopped })
	mu.Lock()
	if len(events) == 0 || events[0].Type != api.EventState || events[0].State.State != api.JobPreparing {
		t.Errorf("the stream does not start with the job's first event: %+v", events[:min(1, len(events))])
	}
	mu.Unlock()

	// A late joiner gets the history first.
	var history []api.TrainEvent
	err = a.client.FollowEvents(ctx, "life", func(e api.TrainEvent) error {
		history = append(history, e)
		if e.State != nil && e.State.State == api.JobStopped {
			return api.ErrStop
		}
		return nil
	})
	if err != nil || len(history) < 4 {
		t.Errorf("late joiner: %v, %d events", err, len(history))
	}

	// Resume, then restart the server while the job trains.
	if _, err := a.client.ResumeJob(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	waitJob(t, a.client, "life", "training past the stop", func(j *api.Job) bool {
		return j.State == api.JobTraining && j.Step > stopped.Step
	})
	stopFollowing()
	<-followed
	a.stop(t)

	b := startServer(t, data, ckpt, false)
	j, err := b.client.Job(ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != api.JobInterrupted || j.Step >= steps {
		t.Fatalf("after a restart: %+v, want interrupted", j)
	}
	b.stop(t)

	c := startServer(t, data, ckpt, true) // --resume-jobs
	defer c.stop(t)
	done := waitJob(t, c.client, "life", "finished", func(j *api.Job) bool { return j.State == api.JobFinished })
	if done.Step != steps || done.LastEval == nil || done.LastEval.Step != steps {
		t.Errorf("finished job %+v", done)
	}
	hist, err := c.client.Metrics(ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range hist.Metrics {
		if p.Step != int64(i+1) {
			t.Fatalf("metrics history: point %d is step %d (want one per step, in order, across the resumes)", i, p.Step)
		}
	}
	if len(hist.Metrics) != steps || len(hist.Evals) == 0 {
		t.Errorf("history: %d metrics, %d evals", len(hist.Metrics), len(hist.Evals))
	}
	cks, err := c.client.Checkpoints(ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for _, ck := range cks {
		if ck.Best {
			best++
		}
	}
	if len(cks) == 0 || cks[len(cks)-1].Step != steps || best != 1 {
		t.Errorf("checkpoints %+v", cks)
	}
	model, err := c.client.Export(ctx, "life", api.ExportRequest{Float16: true})
	if err != nil {
		t.Fatal(err)
	}
	if model.Name != "life/model" || model.Kind != api.KindModel {
		t.Errorf("export: %+v", model)
	}
	loaded, err := c.client.LoadModel(ctx, api.LoadModelRequest{Path: model.Name})
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := os.Open(testutil.Path(t, "corpus", "wavs", "SYN-0001.wav"))
	defer wav.Close()
	tr, err := c.client.Transcribe(ctx, wav, api.TranscribeOptions{})
	if err != nil || tr.Model != loaded.Name {
		t.Errorf("transcribe with the exported model: %v %+v", err, tr)
	}
	if _, err := c.client.ResumeJob(ctx, "life"); statusCode(err) != http.StatusConflict {
		t.Errorf("resuming a finished job: %v, want 409", err)
	}
}

// TestServeKilledTrainer kills the training process with SIGKILL: the API
// stays up and the job is failed with the reason.
func TestServeKilledTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training process")
	}
	data, ckpt := serveRoots(t)
	s := startServer(t, data, ckpt, false)
	defer s.stop(t)
	ctx := context.Background()
	if _, err := s.client.Train(ctx, serveConfig(200), "doomed"); err != nil {
		t.Fatal(err)
	}
	j := waitJob(t, s.client, "doomed", "training", func(j *api.Job) bool { return j.State == api.JobTraining && j.PID > 0 })
	if err := syscall.Kill(j.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, s.client, "doomed", "failed", func(j *api.Job) bool { return j.State == api.JobFailed })
	if !strings.Contains(failed.Error, "signal 9") {
		t.Errorf("failure reason %q", failed.Error)
	}
	if h, err := s.client.Health(ctx); err != nil || h.Status != "ok" {
		t.Errorf("health after the kill: %v %+v", err, h)
	}
	var last api.TrainEvent
	err := s.client.FollowEvents(ctx, "doomed", func(e api.TrainEvent) error {
		last = e
		if e.State != nil && e.State.State == api.JobFailed {
			return api.ErrStop
		}
		return nil
	})
	if err != nil || !strings.Contains(last.State.Message, "signal 9") {
		t.Errorf("events after the kill: %v, last %+v", err, last)
	}
	// A new job may start: the dead one no longer counts.
	if _, err := s.client.Train(ctx, serveConfig(2), "next"); err != nil {
		t.Errorf("a job after the failure: %v", err)
	}
	waitJob(t, s.client, "next", "finished", func(j *api.Job) bool { return !j.State.Active() })
}

func TestHealthcheckCommand(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"status":"ok"}`)) }))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "loading", http.StatusServiceUnavailable) }))
	defer down.Close()
	for _, c := range []struct {
		args []string
		fail string
	}{
		{[]string{"healthcheck", ok.URL + "/healthz"}, ""},
		{[]string{"healthcheck", down.URL + "/healthz"}, "503 Service Unavailable"},
		{[]string{"healthcheck", "localhost:1"}, "not an http"},
		{[]string{"healthcheck", "--timeout", "1s", "http://127.0.0.1:1/healthz"}, "connection refused"},
		{[]string{"healthcheck"}, "one URL"},
	} {
		out, err := runCmd(t, []string{"healthcheck"}, c.args...)
		switch {
		case c.fail == "" && (err != nil || !strings.Contains(out, "ok")):
			t.Errorf("%v: %v %q", c.args, err, out)
		case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.fail)
		}
	}
}
