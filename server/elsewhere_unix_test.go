//go:build unix

package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/server"
)

// A job trained by a process on another host (another API replica sharing
// the checkpoint volume) is shown as running, and stopping it here is
// refused: its PID means nothing on this host and could name an unrelated
// process (the PID here names none, so that the test can never signal
// one).
func TestJobOnAnotherHost(t *testing.T) {
	root := t.TempDir()
	_, _, c := newServer(t, func(cfg *server.Config) { cfg.CheckpointRoot = root })
	run := filepath.Join(root, "elsewhere")
	os.MkdirAll(run, 0o755)
	status := `{"state": "training", "step": 5, "total_steps": 100, "pid": 2147480000, "host": "another-replica-7f3a", "updated": "2026-12-04T10:00:00Z"}`
	if err := os.WriteFile(filepath.Join(run, checkpoint.StatusFile), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	// The trainer holds its run directory's lock while it runs.
	lock, err := os.Create(filepath.Join(run, checkpoint.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := c.Job(ctx, "elsewhere")
	if err != nil || job.State != api.JobTraining || !strings.Contains(job.Message, "another-replica-7f3a") {
		t.Fatalf("job %+v, %v: want training on another-replica-7f3a", job, err)
	}
	_, err = c.StopJob(ctx, "elsewhere")
	if statusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "another-replica-7f3a") {
		t.Errorf("stopping a job of another host: %v, want 409 naming the host", err)
	}
}
