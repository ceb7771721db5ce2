package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/internal/atomicfile"
)

// The trainer's side of the run directory, whose layout package
// asr/checkpoint defines: choosing and locking it, resuming or starting
// over, the JSONL log and the status file.

// openRunDir resolves the run directory (Options.RunDir over
// checkpoint.dir), creates it and takes its lock.
func (t *trainer) openRunDir() (unlock func(), err error) {
	if t.opts.RunDir != "" {
		t.cfg.Checkpoint.Dir = t.opts.RunDir
	}
	if t.cfg.Checkpoint.Dir == "" {
		return nil, errors.New("train: no run directory: set checkpoint.dir")
	}
	if t.runDir, err = filepath.Abs(t.cfg.Checkpoint.Dir); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := os.MkdirAll(t.runDir, 0o755); err != nil {
		return nil, fmt.Errorf("train: run directory: %w", err)
	}
	return lockRun(t.runDir)
}

// startPoint decides between resuming and starting over, and clears the
// run directory for a forced fresh start.
func (t *trainer) startPoint() (*checkpoint.Checkpoint, error) {
	list, err := checkpoint.List(t.runDir)
	if err != nil {
		return nil, err
	}
	if t.opts.Fresh {
		if len(list) == 0 {
			return nil, nil
		}
		if !t.opts.Force {
			return nil, fmt.Errorf("train: %w: refusing to start over in %s (%d checkpoints, newest step %d); add --force to delete them, or choose another checkpoint.dir",
				ErrRunExists, t.runDir, len(list), list[len(list)-1].Step)
		}
		return nil, t.clearRun()
	}
	if len(list) == 0 {
		return nil, nil
	}
	ck, err := checkpoint.Latest(t.runDir, t.log)
	if err != nil {
		return nil, fmt.Errorf("train: cannot resume: %w (start over with --fresh --force)", err)
	}
	return ck, nil
}

// clearRun deletes what earlier training wrote into the run directory, and
// nothing else: the checkpoints (step-* folders and the temporary folders
// of an interrupted save), the JSONL log and the status file. Files a user
// put there, in the checkpoints folder or beside it, are kept.
func (t *trainer) clearRun() error {
	n, err := checkpoint.RemoveCheckpoints(t.runDir)
	if err != nil {
		return fmt.Errorf("train: deleting the previous checkpoints: %w", err)
	}
	for _, f := range []string{t.jsonlPath(), t.statusPath()} {
		if f == "" {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train: %w", err)
		}
	}
	t.log.Info("deleted the previous checkpoints, log and status (--fresh --force)", "run_dir", t.runDir, "checkpoints", n)
	return nil
}

// jsonlPath is the JSONL log's path ("" when log.jsonl is "off").
func (t *trainer) jsonlPath() string {
	switch p := t.cfg.Log.JSONL; p {
	case "off":
		return ""
	case "":
		return filepath.Join(t.runDir, checkpoint.LogFile)
	default:
		return p
	}
}

func (t *trainer) statusPath() string { return filepath.Join(t.runDir, checkpoint.StatusFile) }

func (t *trainer) openLog() error {
	p := t.jsonlPath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("train: log.jsonl: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: log.jsonl: %w", err)
	}
	t.jsonl = f
	t.jsonlOut = JSONLWriter(f, func(err error) { t.log.Warn("cannot write the training log", "path", p, "err", err) })
	return nil
}

func (t *trainer) closeLog() {
	if t.jsonl != nil {
		t.jsonl.Close()
	}
}

func (t *trainer) writeJSONL(e Event) {
	if t.jsonlOut != nil {
		t.jsonlOut(e)
	}
}

// emit stamps and sends an event.
func (t *trainer) emit(e Event) {
	e.Time = time.Now().UTC()
	e.Step, e.TotalSteps, e.Epoch = t.step, t.total, t.pos.Epoch
	t.observe(e)
}

func (t *trainer) setState(s State, msg string) {
	info := &StateInfo{State: s, Message: msg, RunDir: t.runDir}
	if t.backend != nil {
		info.Backend = t.binfo.String()
	}
	if s == StateTraining && t.res.ResumedFrom > 0 {
		info.Resumed = t.res.ResumedFrom
	}
	t.current = s
	t.emit(Event{Type: EventState, State: info})
	t.writeStatus(s, msg)
}

// status is the content of the status file (checkpoint.StatusFile).
type status struct {
	State      State  `json:"state"`
	Message    string `json:"message,omitempty"`
	Step       int64  `json:"step"`
	TotalSteps int64  `json:"total_steps"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Backend    string `json:"backend,omitempty"`
	PID        int    `json:"pid"`
	// Host is the training machine's (or container's) host name: a PID
	// means something only there.
	Host    string    `json:"host,omitempty"`
	Updated time.Time `json:"updated"`
}

// hostname is os.Hostname, or "" when it fails.
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// writeStatus rewrites the status file atomically; a failure is a warning,
// not a reason to stop training.
func (t *trainer) writeStatus(s State, msg string) {
	st := status{State: s, Message: msg, Step: t.step, TotalSteps: t.total, Checkpoint: t.res.Checkpoint, PID: os.Getpid(), Host: hostname(), Updated: time.Now().UTC()}
	if t.backend != nil {
		st.Backend = t.binfo.String()
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.WriteFile(t.statusPath(), append(b, '\n'), 0o644); err != nil {
		t.log.Warn("cannot write the job status", "err", err)
	}
}
