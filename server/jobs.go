package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asrkit/asrkit/api"
	"github.com/asrkit/asrkit/asr/train"
)

// Files of a run directory that the server writes, beside the trainer's
// (checkpoints/, train.jsonl, status.json, .lock).
const (
	// configFile is the job's training config, with its paths resolved.
	configFile = "config.yaml"
	// jobFile is the server's record of the job (jobRecord).
	jobFile = "job.json"
	// logFile receives the training process's standard output and error.
	logFile = "train.log"
	// cacheDir is the feature cache of the jobs, under the checkpoint root.
	cacheDir = ".cache"
)

// jobRecord is the content of job.json: what the server knows of a job
// that the trainer's files do not say.
type jobRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Runs counts the training processes started for the job.
	Runs int `json:"runs"`
	// StopRequested is set when a user stopped the job; a job stopped by a
	// server shutdown instead shows as interrupted and may resume by itself.
	StopRequested bool `json:"stop_requested,omitempty"`
	// Failure says why the last training process died without the trainer
	// recording it (killed, out of memory, a crash).
	Failure string `json:"failure,omitempty"`
}

// trainerStatus is the trainer's status.json (asr/train's StatusFile).
type trainerStatus struct {
	State      api.JobState `json:"state"`
	Message    string       `json:"message,omitempty"`
	Step       int64        `json:"step"`
	TotalSteps int64        `json:"total_steps"`
	Checkpoint string       `json:"checkpoint,omitempty"`
	Backend    string       `json:"backend,omitempty"`
	PID        int          `json:"pid"`
	Host       string       `json:"host,omitempty"`
	Updated    time.Time    `json:"updated"`
}

// elsewhere reports whether the training process runs on another host
// (another API replica's container, another machine sharing the
// checkpoint volume), where its PID means nothing here.
func (st *trainerStatus) elsewhere() bool {
	if st == nil || st.Host == "" {
		return false
	}
	h, err := os.Hostname()
	return err == nil && h != st.Host
}

// child is a running training process.
type child struct {
	id       string
	cmd      *exec.Cmd
	started  time.Time
	stopping bool // SIGTERM sent
	done     chan struct{}
}

// jobs runs training jobs as child processes (`asr train --config
// <run dir>/config.yaml`), one run directory each under the checkpoint
// root, and describes them from their run directories.
type jobs struct {
	s        *Server
	root     string
	mu       sync.Mutex // guards children and the job files
	children map[string]*child
	wg       sync.WaitGroup

	sumMu     sync.Mutex
	summaries map[string]*summary
}

func newJobs(s *Server) *jobs {
	return &jobs{s: s, root: s.ckptDir, children: map[string]*child{}, summaries: map[string]*summary{}}
}

var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkJobID(id string) error {
	if !jobIDPattern.MatchString(id) {
		return errorf(http.StatusBadRequest, "job name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

func (j *jobs) dir(id string) string { return filepath.Join(j.root, id) }

// exists reports whether id names a job: a folder of the checkpoint root
// with the server's or the trainer's files.
func (j *jobs) exists(id string) bool {
	if !jobIDPattern.MatchString(id) {
		return false
	}
	for _, f := range []string{jobFile, statusFile, configFile} {
		if _, err := os.Stat(filepath.Join(j.dir(id), f)); err == nil {
			return true
		}
	}
	return false
}

func (j *jobs) notFound(id string) error {
	return errorf(http.StatusNotFound, "no training job %q (GET /v1/train lists them)", id)
}

func readJSONFile(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// writeFileAtomic writes a file through a temporary file and a rename, so
// a crash leaves the old content or the new.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func (j *jobs) readRecord(id string) (jobRecord, bool, error) {
	var r jobRecord
	ok, err := readJSONFile(filepath.Join(j.dir(id), jobFile), &r)
	return r, ok, err
}

func (j *jobs) writeRecord(r jobRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(j.dir(r.ID), jobFile), append(b, '\n'))
}

func (j *jobs) readStatus(id string) (*trainerStatus, error) {
	var st trainerStatus
	ok, err := readJSONFile(filepath.Join(j.dir(id), statusFile), &st)
	if !ok || err != nil {
		return nil, err
	}
	return &st, nil
}

// runningElsewhere reports whether a process that is not this server's
// child trains into the job's run directory (holds its lock).
func (j *jobs) runningElsewhere(id string) bool {
	return j.children[id] == nil && runLocked(filepath.Join(j.dir(id), lockFile))
}

// ids lists the jobs of the checkpoint root.
func (j *jobs) ids() []string {
	entries, _ := os.ReadDir(j.root)
	var out []string
	for _, e := range entries {
		if e.IsDir() && j.exists(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// running counts the training processes: this server's children and
// processes of others (an `asr train` into the checkpoint root, a child
// that outlived an earlier server). j.mu must be held.
func (j *jobs) running() (n int, names []string) {
	for id := range j.children {
		names = append(names, id)
	}
	for _, id := range j.ids() {
		if j.runningElsewhere(id) {
			names = append(names, id)
		}
	}
	slices.Sort(names)
	return len(names), names
}

// runningID is the id of a running job ("" if none), for /healthz.
func (j *jobs) runningID() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for id := range j.children {
		return id
	}
	return ""
}

// checkCapacity refuses a new training process when MaxJobs run already.
// j.mu must be held.
func (j *jobs) checkCapacity() error {
	if n, names := j.running(); n >= j.s.cfg.MaxJobs {
		return errorf(http.StatusConflict, "training job %s is running, and this server runs %d at a time: stop it first (POST /v1/train/%s/stop) or wait for it",
			strings.Join(names, ", "), j.s.cfg.MaxJobs, names[0])
	}
	return nil
}

// create starts a new job from a posted config.
func (j *jobs) create(raw []byte, name string) (api.Job, error) {
	id, cfg, err := j.s.prepareConfig(raw, name, j.exists)
	if err != nil {
		return api.Job{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.exists(id) {
		return api.Job{}, errorf(http.StatusConflict, "training job %q exists already: resume it (POST /v1/train/%s/resume) or choose another name", id, id)
	}
	if err := j.checkCapacity(); err != nil {
		return api.Job{}, err
	}
	dir := j.dir(id)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return api.Job{}, errorf(http.StatusConflict, "%s exists and is not empty; choose another job name", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return api.Job{}, fmt.Errorf("creating the run directory: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, configFile), cfg); err != nil {
		return api.Job{}, fmt.Errorf("writing the job's config: %w", err)
	}
	if err := j.writeRecord(jobRecord{ID: id, Created: time.Now().UTC()}); err != nil {
		return api.Job{}, fmt.Errorf("writing the job record: %w", err)
	}
	if err := j.spawn(id); err != nil {
		return api.Job{}, err
	}
	j.s.log.Info("training job started", "job", id, "run_dir", dir)
	return j.describeLocked(id)
}

// check validates a posted config as create does, starting nothing.
func (j *jobs) check(raw []byte, name string) (api.TrainCheck, error) {
	id, cfg, err := j.s.prepareConfig(raw, name, j.exists)
	if err != nil {
		return api.TrainCheck{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.exists(id) {
		return api.TrainCheck{}, errorf(http.StatusConflict, "training job %q exists already: resume it (POST /v1/train/%s/resume) or choose another name", id, id)
	}
	if err := j.checkCapacity(); err != nil {
		return api.TrainCheck{}, err
	}
	return api.TrainCheck{ID: id, RunDir: j.dir(id), Config: string(cfg)}, nil
}

// spawn starts the training process of a job. j.mu must be held.
func (j *jobs) spawn(id string) error {
	dir := j.dir(id)
	rec, _, err := j.readRecord(id)
	if err != nil {
		return fmt.Errorf("reading the job record: %w", err)
	}
	if rec.ID == "" {
		rec = jobRecord{ID: id, Created: time.Now().UTC()}
	}
	rec.Runs++
	rec.StopRequested, rec.Failure = false, ""
	if err := j.writeRecord(rec); err != nil {
		return fmt.Errorf("writing the job record: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the job's log: %w", err)
	}
	defer logf.Close() // the process has its own descriptor
	fmt.Fprintf(logf, "== %s: run %d of job %s, started by asr serve\n", time.Now().UTC().Format(time.RFC3339), rec.Runs, id)
	cmd := exec.Command(j.s.cfg.Executable, "train", "--config", filepath.Join(dir, configFile), "--no-progress")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), j.s.cfg.ChildEnv...)
	// A file, not a pipe: the process must not die of SIGPIPE if the
	// server goes away before it.
	cmd.Stdout, cmd.Stderr = logf, logf
	childAttrs(cmd)
	if err := cmd.Start(); err != nil {
		rec.Failure = fmt.Sprintf("cannot start the training process: %v", err)
		j.writeRecord(rec)
		return fmt.Errorf("starting the training process: %w", err)
	}
	c := &child{id: id, cmd: cmd, started: time.Now(), done: make(chan struct{})}
	j.children[id] = c
	j.wg.Add(1)
	go j.wait(c)
	return nil
}

// wait reaps a training process and records how it ended when the trainer
// could not (killed, crashed): in job.json, and as error and state events
// in train.jsonl so that followers see it.
func (j *jobs) wait(c *child) {
	defer j.wg.Done()
	c.cmd.Wait()
	ps := c.cmd.ProcessState
	j.mu.Lock()
	defer func() {
		delete(j.children, c.id)
		j.mu.Unlock()
		close(c.done)
	}()
	st, _ := j.readStatus(c.id)
	trainerFailed := st != nil && st.State == api.JobFailed && !st.Updated.Before(c.started.Add(-time.Second))
	if ps.Success() || trainerFailed {
		if st != nil {
			j.s.log.Info("training process ended", "job", c.id, "state", st.State, "step", st.Step, "msg", st.Message)
		}
		return
	}
	reason := exitReason(ps)
	if ps.ExitCode() > 0 { // exited: its last line is usually the error
		if line := lastLogLine(filepath.Join(j.dir(c.id), logFile)); line != "" {
			reason += ": " + line
		}
	}
	j.s.log.Error("training process failed", "job", c.id, "reason", reason)
	rec, _, _ := j.readRecord(c.id)
	if rec.ID == "" {
		rec.ID = c.id
	}
	rec.Failure = reason
	if err := j.writeRecord(rec); err != nil {
		j.s.log.Error("cannot record the job's failure", "job", c.id, "err", err)
	}
	sum := j.summary(c.id) // where the process had got to
	now := time.Now().UTC()
	events := []train.Event{
		{Type: train.EventError, Time: now, Step: sum.step, TotalSteps: sum.total, Epoch: sum.epoch, Error: reason},
		{Type: train.EventState, Time: now, Step: sum.step, TotalSteps: sum.total, Epoch: sum.epoch, State: &train.StateInfo{State: train.StateFailed, Message: reason, RunDir: j.dir(c.id)}},
	}
	if f, err := os.OpenFile(filepath.Join(j.dir(c.id), eventsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
		w := train.JSONLWriter(f, func(err error) { j.s.log.Error("cannot record the job's failure in its log", "job", c.id, "err", err) })
		for _, e := range events {
			w(e)
		}
		f.Close()
	}
}

// lastLogLine returns the last non-empty line of a log (at most 500 bytes
// of it).
func lastLogLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 4096
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if len(line) > 500 {
		line = line[:500] + "..."
	}
	return line
}

// stop asks a running job to save a checkpoint and stop.
func (j *jobs) stop(id string) (api.Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.exists(id) {
		return api.Job{}, j.notFound(id)
	}
	c := j.children[id]
	if c == nil {
		st, _ := j.readStatus(id)
		if j.runningElsewhere(id) && st.elsewhere() {
			return api.Job{}, errorf(http.StatusConflict, "job %s is trained by process %d on host %s, not this server's: stop it through the API that started it (the run directory's lock shows it is running)", id, st.PID, st.Host)
		}
		if j.runningElsewhere(id) && st != nil && alive(st.PID) {
			// A process this server did not start (e.g. one that outlived
			// an earlier server): it stops on SIGTERM all the same.
			if err := terminate(st.PID); err != nil {
				return api.Job{}, fmt.Errorf("stopping process %d: %w", st.PID, err)
			}
			if rec, ok, _ := j.readRecord(id); ok {
				rec.StopRequested = true
				j.writeRecord(rec)
			}
			return j.describeLocked(id)
		}
		job, err := j.describeLocked(id)
		if err != nil {
			return job, err
		}
		return api.Job{}, errorf(http.StatusConflict, "training job %q is not running (state %s)", id, job.State)
	}
	if !c.stopping {
		rec, _, _ := j.readRecord(id)
		rec.ID, rec.StopRequested = id, true
		if err := j.writeRecord(rec); err != nil {
			return api.Job{}, fmt.Errorf("recording the stop request: %w", err)
		}
		if err := terminate(c.cmd.Process.Pid); err != nil {
			return api.Job{}, fmt.Errorf("stopping the training process: %w", err)
		}
		c.stopping = true
		j.s.log.Info("stopping training job", "job", id, "pid", c.cmd.Process.Pid)
	}
	return j.describeLocked(id)
}

// resume starts a job's training process again; the trainer resumes from
// the newest checkpoint of the run directory.
func (j *jobs) resume(id string) (api.Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.exists(id) {
		return api.Job{}, j.notFound(id)
	}
	if j.children[id] != nil || j.runningElsewhere(id) {
		return api.Job{}, errorf(http.StatusConflict, "training job %q is running already", id)
	}
	if _, err := os.Stat(filepath.Join(j.dir(id), configFile)); err != nil {
		return api.Job{}, errorf(http.StatusConflict, "training job %q was not started by the server (its run directory has no %s): resume it with `asr train --config ...`", id, configFile)
	}
	if st, _ := j.readStatus(id); st != nil && st.State == api.JobFinished {
		return api.Job{}, errorf(http.StatusConflict, "training job %q is finished (step %d of %d): nothing to resume", id, st.Step, st.TotalSteps)
	}
	if err := j.checkCapacity(); err != nil {
		return api.Job{}, err
	}
	if err := j.spawn(id); err != nil {
		return api.Job{}, err
	}
	j.s.log.Info("training job resumed", "job", id)
	return j.describeLocked(id)
}

// scan reports the jobs found at start.
func (j *jobs) scan() error {
	list, err := j.list()
	if err != nil {
		return err
	}
	counts := map[api.JobState]int{}
	for _, job := range list {
		counts[job.State]++
	}
	if len(list) > 0 {
		j.s.log.Info("training jobs found", "jobs", len(list), "interrupted", counts[api.JobInterrupted], "running_elsewhere", counts[api.JobTraining]+counts[api.JobPreparing]+counts[api.JobEvaluating])
	}
	return nil
}

// resumeInterrupted resumes the interrupted jobs, newest first, as many as
// may run.
func (j *jobs) resumeInterrupted() {
	list, _ := j.list()
	for _, job := range list {
		if job.State != api.JobInterrupted || !job.Managed {
			continue
		}
		if _, err := j.resume(job.ID); err != nil {
			j.s.log.Warn("not resuming interrupted job", "job", job.ID, "err", err)
			continue
		}
		j.s.log.Info("resumed interrupted job (--resume-jobs)", "job", job.ID, "step", job.Step)
	}
}

// stopAll sends SIGTERM to every training process (they save a checkpoint
// and exit, and show as interrupted after a restart) and waits for them
// until ctx is done.
func (j *jobs) stopAll(ctx context.Context) {
	j.mu.Lock()
	var waits []*child
	for _, c := range j.children {
		if !c.stopping {
			if err := terminate(c.cmd.Process.Pid); err != nil {
				j.s.log.Error("cannot stop training process", "job", c.id, "err", err)
			}
			c.stopping = true
		}
		waits = append(waits, c)
	}
	j.mu.Unlock()
	for _, c := range waits {
		j.s.log.Info("waiting for the training job to save a checkpoint", "job", c.id)
		select {
		case <-c.done:
		case <-ctx.Done():
			j.s.log.Error("the training job did not stop in time; leaving it to finish on its own", "job", c.id, "pid", c.cmd.Process.Pid)
		}
	}
}

// list describes every job, newest first.
func (j *jobs) list() ([]api.Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []api.Job{}
	for _, id := range j.ids() {
		job, err := j.describeLocked(id)
		if err != nil {
			j.s.log.Warn("cannot describe job", "job", id, "err", err)
			continue
		}
		out = append(out, job)
	}
	slices.SortStableFunc(out, func(a, b api.Job) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (j *jobs) describe(id string) (api.Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.describeLocked(id)
}

// describeLocked tells a job's state from its run directory and its
// process. j.mu must be held.
func (j *jobs) describeLocked(id string) (api.Job, error) {
	if !j.exists(id) {
		return api.Job{}, j.notFound(id)
	}
	dir := j.dir(id)
	job := api.Job{ID: id, RunDir: dir}
	rec, hasRec, err := j.readRecord(id)
	if err != nil {
		return job, err
	}
	st, err := j.readStatus(id)
	if err != nil {
		return job, err
	}
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		job.Managed = true
	}
	job.Created = rec.Created
	if !hasRec {
		if fi, err := os.Stat(dir); err == nil {
			job.Created = fi.ModTime().UTC()
		}
	}
	sum := j.summary(id)
	job.LastMetrics, job.LastEval, job.Epoch = sum.metrics, sum.eval, sum.epoch
	if st != nil {
		job.Step, job.TotalSteps, job.Checkpoint, job.Backend, job.Updated = st.Step, st.TotalSteps, st.Checkpoint, st.Backend, st.Updated
		job.State, job.Message = st.State, st.Message
	}
	if sum.step > job.Step {
		job.Step = sum.step
	}
	if job.TotalSteps == 0 {
		job.TotalSteps = sum.total
	}
	c := j.children[id]
	switch {
	case c != nil:
		job.PID = c.cmd.Process.Pid
		if st == nil || st.Updated.Before(c.started.Add(-time.Second)) {
			job.State, job.Message = api.JobStarting, "the training process is starting"
		}
		// Until the process has exited, a stop is still in progress, even
		// once the trainer has written its final state.
		if c.stopping && job.State != api.JobStopping && job.State != api.JobFailed {
			job.State, job.Message = api.JobStopping, "finishing the step and saving a checkpoint"
		}
	case rec.Failure != "":
		job.State, job.Error, job.Message = api.JobFailed, rec.Failure, ""
	case st == nil:
		job.State, job.Message = api.JobInterrupted, "the job has not started training"
	case st.State.Active():
		if j.runningElsewhere(id) {
			job.PID = st.PID
			by := "trained by another process"
			if st.elsewhere() {
				by = "trained by a process on host " + st.Host
			}
			job.Message = cmp.Or(job.Message, by)
		} else {
			job.State = api.JobInterrupted
			job.Message = fmt.Sprintf("the training process ended at step %d without saving its state (a server restart or a crash); resuming continues from the last checkpoint", job.Step)
		}
	case st.State == api.JobFailed && strings.Contains(st.Message, "context canceled"):
		// Stopped before the first step: nothing was saved, nothing failed.
		job.State, job.Message = api.JobStopped, "stopped before the first step"
		if !rec.StopRequested && job.Managed {
			job.State, job.Message = api.JobInterrupted, "stopped by a server shutdown before the first step"
		}
	case st.State == api.JobFailed:
		job.Error = st.Message
	case st.State == api.JobStopped && job.Managed && !rec.StopRequested:
		job.State = api.JobInterrupted
		job.Message = fmt.Sprintf("stopped at step %d by a server shutdown; resume continues from there", st.Step)
	}
	if (job.State == api.JobTraining || job.State == api.JobEvaluating) && job.LastMetrics != nil {
		job.ETA = job.LastMetrics.ETA
	}
	return job, nil
}

// summary holds the latest figures of a job's train.jsonl, read
// incrementally: each call reads only what was appended since the last.
type summary struct {
	mu      sync.Mutex
	offset  int64
	partial []byte
	view    summaryView
}

// summaryView is the figures of a summary.
type summaryView struct {
	metrics     *api.TrainMetrics
	eval        *api.TrainEval
	epoch       int
	step, total int64
}

func (j *jobs) summary(id string) summaryView {
	j.sumMu.Lock()
	s := j.summaries[id]
	if s == nil {
		s = &summary{}
		j.summaries[id] = s
	}
	j.sumMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(j.dir(id), eventsFile)
	if fi, err := os.Stat(path); err != nil || fi.Size() < s.offset {
		s.offset, s.partial, s.view = 0, nil, summaryView{} // the log was removed or started over
	}
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		if _, err := f.Seek(s.offset, io.SeekStart); err == nil {
			b, _ := io.ReadAll(f)
			s.offset += int64(len(b))
			data := append(s.partial, b...)
			last := bytes.LastIndexByte(data, '\n')
			s.partial = bytes.Clone(data[last+1:])
			for _, line := range bytes.Split(data[:last+1], []byte{'\n'}) {
				var e api.TrainEvent
				if len(line) == 0 || json.Unmarshal(line, &e) != nil {
					continue
				}
				v := &s.view
				v.step, v.total, v.epoch = e.Step, e.TotalSteps, e.Epoch
				switch {
				case e.Metrics != nil:
					v.metrics = e.Metrics
				case e.Eval != nil:
					v.eval = e.Eval
				}
			}
		}
	}
	return s.view
}

// Describe implements prometheus.Collector: the running jobs' figures.
func (j *jobs) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTrainRunning, descTrainStep, descTrainTotal, descTrainLoss, descTrainWER, descTrainCER, descTrainSpeed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (j *jobs) Collect(ch chan<- prometheus.Metric) {
	j.mu.Lock()
	ids := make([]string, 0, len(j.children))
	for id := range j.children {
		ids = append(ids, id)
	}
	j.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descTrainRunning, prometheus.GaugeValue, float64(len(ids)))
	for _, id := range ids {
		s := j.summary(id)
		ch <- prometheus.MustNewConstMetric(descTrainStep, prometheus.GaugeValue, float64(s.step), id)
		ch <- prometheus.MustNewConstMetric(descTrainTotal, prometheus.GaugeValue, float64(s.total), id)
		if m := s.metrics; m != nil {
			ch <- prometheus.MustNewConstMetric(descTrainLoss, prometheus.GaugeValue, m.Loss, id)
			ch <- prometheus.MustNewConstMetric(descTrainSpeed, prometheus.GaugeValue, m.AudioSecondsPerSecond, id)
		}
		if e := s.eval; e != nil {
			ch <- prometheus.MustNewConstMetric(descTrainWER, prometheus.GaugeValue, e.WER, id)
			ch <- prometheus.MustNewConstMetric(descTrainCER, prometheus.GaugeValue, e.CER, id)
		}
	}
}
