package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/train"
	"github.com/asrkit/asrkit/internal/testutil"
	"github.com/asrkit/asrkit/server"
)

// dataRoot makes a data root with a manifest and an LJSpeech-format
// folder of testdata's clips.
func dataRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	wavs := testutil.Path(t, "ljspeech", "wavs")
	os.MkdirAll(filepath.Join(root, "lj"), 0o755)
	meta := readFile(t, "ljspeech", "metadata.csv")
	os.WriteFile(filepath.Join(root, "lj", "metadata.csv"), meta, 0o644)
	if err := os.Symlink(wavs, filepath.Join(root, "lj", "wavs")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "sets", "a"), 0o755)
	m := `{"id": "a", "audio_filepath": "` + filepath.Join(wavs, "LJ001-0002.wav") + `", "text": "in being comparatively modern"}` + "\n" +
		`{"id": "b", "audio_filepath": "missing.wav", "text": "gone"}` + "\n"
	os.WriteFile(filepath.Join(root, "sets", "a", "train.jsonl"), []byte(m), 0o644)
	os.MkdirAll(filepath.Join(root, ".hidden"), 0o755)
	os.WriteFile(filepath.Join(root, ".hidden", "x.jsonl"), []byte(m), 0o644)
	return root
}

// TestTrainConfigErrors checks the refusals of POST /v1/train, all before
// a training process starts.
func TestTrainConfigErrors(t *testing.T) {
	data := dataRoot(t)
	_, ts, c := newServer(t, func(cfg *server.Config) { cfg.DataRoot = data })
	good := "datasets:\n  ljspeech:\n    path: lj\ntrain:\n  steps: 2\n"
	for _, tc := range []struct {
		name, query, body string
		code              int
		msg               string
	}{
		{"empty", "", "", 400, "must be a training config"},
		{"not yaml", "", "{{{", 400, "config:"},
		{"unknown key", "", good + "  stepz: 3\n", 400, "config:6:3: train.stepz: unknown key"},
		{"invalid value", "", "datasets:\n  ljspeech:\n    path: lj\ntrain:\n  steps: -2\n", 400, "train.steps -2"},
		{"no dataset", "", "train:\n  steps: 2\n", 400, "datasets"},
		{"missing dataset", "", "datasets:\n  ljspeech:\n    path: nowhere\n", 400, "does not exist"},
		{"outside the roots", "", "datasets:\n  ljspeech:\n    path: /etc\n", 400, "outside the data root"},
		{"escaping the root", "", "datasets:\n  ljspeech:\n    path: ../../etc\n", 400, "outside the data root"},
		{"init_from outside", "", good + "  init_from: /tmp\n", 400, "train.init_from: /tmp is outside"},
		{"cache outside", "", "datasets:\n  ljspeech:\n    path: lj\n  cache_dir: /var/tmp\n", 400, "datasets.cache_dir"},
		{"run dir elsewhere", "", good + "checkpoint:\n  dir: ../../runs/x\n", 400, "checkpoint.dir"},
		{"names disagree", "?name=a", good + "checkpoint:\n  dir: b\n", 400, "disagree"},
		{"bad name", "?name=../x", good, 400, "job name"},
		{"own log", "", good + "log:\n  jsonl: /tmp/x.jsonl\n", 400, "log.jsonl"},
		{"plugin path", "", good + "  backend: xla:/tmp/evil.so\n", 400, "PJRT plugin path is the server's"},
		{"too big", "", good + "#" + strings.Repeat("x", 2<<20) + "\n", 413, "under 1 MiB"},
	} {
		code, _, body := call(t, "POST", ts.URL+"/v1/train"+tc.query, nil, strings.NewReader(tc.body))
		if code != tc.code {
			t.Errorf("%s: %d, want %d: %s", tc.name, code, tc.code, body)
			continue
		}
		if msg := errorMessage(t, body); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %q lacks %q", tc.name, msg, tc.msg)
		}
	}
	jobs, err := c.Jobs(context.Background())
	if err != nil || len(jobs) != 0 {
		t.Errorf("refused configs left jobs: %v %+v", err, jobs)
	}
}

// TestTrainJobFiles posts a JSON config and checks the job's run
// directory: the config with its paths resolved, and, as the training
// program here cannot start (/bin/false), a failed job with the reason.
func TestTrainJobFiles(t *testing.T) {
	data := dataRoot(t)
	srv, ts, c := newServer(t, func(cfg *server.Config) { cfg.DataRoot = data })
	_ = srv
	ctx := context.Background()
	cfg := `{"datasets": {"ljspeech": {"path": "lj"}}, "train": {"steps": 3}, "checkpoint": {"dir": "json-job", "every": 1}}`
	plan, err := c.CheckTrain(ctx, []byte(cfg), "")
	if err != nil || plan.ID != "json-job" || !strings.Contains(plan.Config, "\n    dir: "+plan.RunDir+"\n") {
		t.Fatalf("dry run: %v %+v", err, plan)
	}
	if list, _ := c.Jobs(ctx); len(list) != 0 {
		t.Fatalf("a dry run made a job: %+v", list)
	}
	if _, err := c.CheckTrain(ctx, []byte("train:\n  stepz: 1\n"), ""); statusOf(err) != 400 || !strings.Contains(err.Error(), "config:2:3: train.stepz: unknown key") {
		t.Errorf("dry run of a bad config: %v", err)
	}
	job, err := c.Train(ctx, []byte(cfg), "")
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "json-job" || !job.Managed {
		t.Fatalf("job %+v", job)
	}
	var ckptRoot string
	list, _ := c.Jobs(ctx)
	if len(list) != 1 {
		t.Fatalf("jobs %+v", list)
	}
	ckptRoot = filepath.Dir(list[0].RunDir)
	parsed, err := train.LoadConfig(filepath.Join(list[0].RunDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Datasets.LJSpeech.Path != filepath.Join(data, "lj") || parsed.Checkpoint.Dir != list[0].RunDir ||
		parsed.Datasets.CacheDir != filepath.Join(ckptRoot, ".cache") || parsed.Train.Steps != 3 || parsed.Checkpoint.Every != 1 {
		t.Errorf("the job's config: %+v", parsed)
	}
	// /bin/false exits with status 1: the job fails, saying so.
	deadline := time.Now().Add(time.Minute)
	for job.State != api.JobFailed && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		job, _ = c.Job(ctx, "json-job")
	}
	if job.State != api.JobFailed || !strings.Contains(job.Error, "exited with status 1") {
		t.Errorf("job %+v, want failed", job)
	}
	// The same name again is a conflict; resuming and stopping are refused.
	if _, err := c.Train(ctx, []byte(cfg), ""); statusOf(err) != http.StatusConflict {
		t.Errorf("a second job of the same name: %v", err)
	}
	if _, err := c.StopJob(ctx, "json-job"); statusOf(err) != http.StatusConflict {
		t.Errorf("stopping a failed job: %v", err)
	}
	hist, err := c.Metrics(ctx, "json-job")
	if err != nil || len(hist.Metrics) != 0 {
		t.Errorf("metrics of a job that never trained: %v %+v", err, hist)
	}
	if _, err := c.Export(ctx, "json-job", api.ExportRequest{}); statusOf(err) != http.StatusConflict {
		t.Errorf("export without checkpoints: %v, want 409", err)
	}
	cks, err := c.Checkpoints(ctx, "json-job")
	if err != nil || len(cks) != 0 {
		t.Errorf("checkpoints: %v %+v", err, cks)
	}
	code, _, body := call(t, "POST", ts.URL+"/v1/train/json-job/export", nil, strings.NewReader(`{"average": -1}`))
	if code != 400 || !strings.Contains(errorMessage(t, body), "average -1") {
		t.Errorf("export with a negative average: %d %s", code, body)
	}
	code, _, body = call(t, "POST", ts.URL+"/v1/train/json-job/export", nil, strings.NewReader(`{"avg": 2}`))
	if code != 400 || !strings.Contains(errorMessage(t, body), "unknown field") {
		t.Errorf("export with an unknown field: %d %s", code, body)
	}
}

// TestTrainEventWireFormat checks that api.TrainEvent reads every field of
// asr/train's Event and writes it back unchanged: the two definitions of
// the training events agree.
func TestTrainEventWireFormat(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	events := []train.Event{
		{Type: train.EventState, Time: now, Step: 1, TotalSteps: 9, Epoch: 2, State: &train.StateInfo{State: train.StateTraining, Message: "m", RunDir: "/r", Backend: "go", Resumed: 4}},
		{Type: train.EventMetrics, Time: now, Step: 2, TotalSteps: 9, Metrics: &train.Metrics{Loss: 1.5, LearningRate: 1e-3, GradNorm: 2, Steps: 3, SkippedSteps: 1,
			Utterances: 4, AudioSeconds: 5, PaddedSeconds: 6, GFLOPS: 7, StepsPerSecond: 8, AudioSecondsPerSecond: 9, DataWait: 10, Elapsed: 11, ETA: 12}},
		{Type: train.EventEval, Time: now, Step: 3, Eval: &train.EvalResult{EvalMetrics: checkpoint.EvalMetrics{Step: 3, WER: 0.5, CER: 0.25, Loss: 2, Utterances: 4, Words: 20},
			Seconds: 1.5, Samples: []train.Sample{{ID: "a", Reference: "x y", Hypothesis: "x"}}}},
		{Type: train.EventCheckpoint, Time: now, Step: 4, Checkpoint: &train.CheckpointInfo{Dir: "/r/c", Seconds: 0.5, Best: true, Removed: []string{"/r/old"}}},
		{Type: train.EventCompile, Time: now, Step: 5, Compile: &train.CompileInfo{Graph: "train", BatchSize: 2, Frames: 192, Seconds: 0.3}},
		{Type: train.EventError, Time: now, Step: 6, Error: "boom"},
	}
	for _, e := range events {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var w api.TrainEvent
		dec := json.NewDecoder(bytes.NewReader(want))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			t.Errorf("%s event: api.TrainEvent cannot read %s: %v", e.Type, want, err)
			continue
		}
		got, _ := json.Marshal(w)
		var a, b any
		json.Unmarshal(got, &a)
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s event:\n got %s\nwant %s", e.Type, got, want)
		}
	}
}

// TestDatasets lists the corpora of the data root and checks them.
func TestDatasets(t *testing.T) {
	data := dataRoot(t)
	_, _, c := newServer(t, func(cfg *server.Config) { cfg.DataRoot = data })
	ctx := context.Background()
	list, err := c.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Dataset{
		{Name: "lj", Path: filepath.Join(data, "lj"), Format: "ljspeech", Rows: 8},
		{Name: "sets/a/train.jsonl", Path: filepath.Join(data, "sets", "a", "train.jsonl"), Format: "manifest", Rows: 2},
	}
	if list.DataRoot != data || !reflect.DeepEqual(list.Datasets, want) {
		t.Errorf("datasets %+v", list)
	}
	rep, err := c.CheckDataset(ctx, api.DatasetCheckRequest{LJSpeech: "lj"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 8 || rep.Valid != 8 || rep.Hours <= 0 || len(rep.Histogram) == 0 || len(rep.Problems) != 0 || rep.Error != "" || len(rep.Sets) == 0 {
		t.Errorf("report of lj: %+v", rep)
	}
	rep, err = c.CheckDataset(ctx, api.DatasetCheckRequest{Manifest: "sets/a/train.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Valid != 1 || len(rep.Problems) != 1 || rep.Problems[0].ID != "b" || rep.Counts["missing audio"] != 1 || !strings.Contains(rep.Error, "1 of 2 rows are invalid") {
		t.Errorf("report of a manifest with a missing file: %+v", rep)
	}
	rep, err = c.CheckDataset(ctx, api.DatasetCheckRequest{Manifest: "sets/a/train.jsonl", SkipInvalid: true})
	if err != nil || !rep.Skipped || rep.Error != "" {
		t.Errorf("with skip_invalid: %v %+v", err, rep)
	}
	rep, err = c.CheckDataset(ctx, api.DatasetCheckRequest{Config: "datasets:\n  ljspeech:\n    path: lj\n  max_duration: 5\n"})
	if err != nil || rep.Counts["longer than max_duration"] == 0 {
		t.Errorf("check of a config: %v %+v", err, rep)
	}
	for _, tc := range []struct {
		req api.DatasetCheckRequest
		msg string
	}{
		{api.DatasetCheckRequest{}, "one of ljspeech, manifest or config"},
		{api.DatasetCheckRequest{LJSpeech: "lj", Manifest: "x.jsonl"}, "one of"},
		{api.DatasetCheckRequest{LJSpeech: "/etc"}, "outside the data root"},
		{api.DatasetCheckRequest{LJSpeech: "nowhere"}, "metadata.csv"},
		{api.DatasetCheckRequest{Config: "datasets:\n  ljspeech:\n    path: /etc\n"}, "outside the data root"},
		{api.DatasetCheckRequest{Config: "datasets: 3\n"}, "config:"},
	} {
		if _, err := c.CheckDataset(ctx, tc.req); statusOf(err) != 400 || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("check %+v: %v, want 400 %q", tc.req, err, tc.msg)
		}
	}
}

// TestMetricsAndHealth checks /healthz and the Prometheus metrics after
// some traffic.
func TestMetricsAndHealth(t *testing.T) {
	_, ts, c := newServer(t, func(cfg *server.Config) { cfg.Version = "1.2.3" })
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" || h.Version != "1.2.3" || h.Model != testModel(t) || h.RunningJob != "" {
		t.Errorf("health %v %+v", err, h)
	}
	wav := readFile(t, "ljspeech", "wavs", "LJ001-0008.wav")
	if _, err := c.Transcribe(ctx, bytes.NewReader(wav), api.TranscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Transcribe(ctx, strings.NewReader("junk"), api.TranscribeOptions{})
	code, hdr, body := call(t, "GET", ts.URL+"/metrics", nil, nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %v", code, hdr)
	}
	for _, want := range []string{
		`asr_http_requests_total{code="200",route="POST /v1/transcribe"} 1`,
		`asr_http_requests_total{code="400",route="POST /v1/transcribe"} 1`,
		`asr_http_requests_total{code="200",route="GET /healthz"} 1`,
		`asr_http_request_duration_seconds_bucket{route="POST /v1/transcribe",le="+Inf"} 2`,
		`asr_audio_seconds_transcribed_total{source="transcribe"} 1.7`,
		`asr_transcribe_real_time_factor_count 1`,
		`asr_transcribe_queue_depth 0`,
		`asr_transcribe_in_flight 0`,
		`asr_stream_sessions 0`,
		`asr_train_jobs_running 0`,
		`go_memstats_heap_alloc_bytes`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestCORS checks that CORS is off by default and on for the allowed
// origins only.
func TestCORS(t *testing.T) {
	_, off, _ := newServer(t, nil)
	_, on, _ := newServer(t, func(cfg *server.Config) { cfg.AllowOrigins = []string{"localhost:58080"} })
	pre := http.Header{"Origin": {"http://localhost:58080"}, "Access-Control-Request-Method": {"POST"}}
	code, h, _ := call(t, "OPTIONS", off.URL+"/v1/transcribe", pre, nil)
	if h.Get("Access-Control-Allow-Origin") != "" || code == http.StatusNoContent {
		t.Errorf("CORS off: preflight answered %d %v", code, h)
	}
	code, h, _ = call(t, "OPTIONS", on.URL+"/v1/transcribe", pre, nil)
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://localhost:58080" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", code, h)
	}
	_, h, _ = call(t, "GET", on.URL+"/v1/models", http.Header{"Origin": {"http://localhost:58080"}}, nil)
	if h.Get("Access-Control-Allow-Origin") != "http://localhost:58080" {
		t.Errorf("allowed origin: %v", h)
	}
	_, h, _ = call(t, "GET", on.URL+"/v1/models", http.Header{"Origin": {"http://evil.example"}}, nil)
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin got CORS headers: %v", h)
	}
	ctx := context.Background()
	if conn, err := dialStream(ctx, on.URL+"/v1/stream", map[string][]string{"Origin": {"http://localhost:58080"}}); err != nil {
		t.Errorf("WebSocket from the allowed origin: %v", err)
	} else {
		conn.CloseNow()
	}
	if _, err := dialStream(ctx, off.URL+"/v1/stream", map[string][]string{"Origin": {"http://localhost:58080"}}); err == nil {
		t.Error("WebSocket from another origin accepted with CORS off")
	}
}

// TestCheckpointRootNotWritable checks the start-up message that says how
// to fix the ownership of the checkpoint root.
func TestCheckpointRootNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := server.New(server.Config{CheckpointRoot: filepath.Join(file, "ckpt"), Model: testModel(t), Backend: "go"})
	if err == nil || !strings.Contains(err.Error(), "cannot create the checkpoint root") || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a checkpoint root under a file: %v", err)
	}
	if os.Getuid() == 0 {
		return // root writes anywhere
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o555)
	_, err = server.New(server.Config{CheckpointRoot: dir, Model: testModel(t), Backend: "go"})
	if err == nil || !strings.Contains(err.Error(), "is not writable") || !strings.Contains(err.Error(), "chown") {
		t.Errorf("read-only checkpoint root: %v", err)
	}
}
