package server

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/asrkit/asrkit/api"
)

// exportDir is the model directory that POST /v1/train/{id}/export
// writes inside the job's run directory.
const exportDir = "model"

// bestCache remembers each run directory's best checkpoint, which takes
// reading the weights to find (the library verifies them), until
// its checkpoints change.
type bestCache struct {
	mu   sync.Mutex
	byID map[string]bestEntry
}

type bestEntry struct {
	key  string // the checkpoints' steps
	step int64
}

// checkpoints lists a job's checkpoints, oldest first, marking the best
// (the one export and model loading use).
func (s *Server) checkpoints(id string) (api.CheckpointList, error) {
	out := api.CheckpointList{Job: id, Checkpoints: []api.Checkpoint{}}
	if !s.jobs.exists(id) {
		return out, s.jobs.notFound(id)
	}
	dir := s.jobs.dir(id)
	list, err := listCheckpoints(dir)
	if err != nil {
		return out, err
	}
	key := ""
	for _, c := range list {
		key += fmt.Sprintf("%d,", c.Step)
		cp := api.Checkpoint{Step: c.Step, Dir: c.Dir}
		if c.Err != nil {
			cp.Error = c.Err.Error()
		} else if m := c.Manifest; m != nil {
			cp.Time, cp.TrainLoss, cp.LearningRate, cp.Eval = m.Time, m.Metrics.TrainLoss, m.Metrics.LearningRate, evalMetrics(m.Metrics.Eval)
		}
		out.Checkpoints = append(out.Checkpoints, cp)
	}
	if best, ok := s.bestStep(id, dir, key); ok {
		for i := range out.Checkpoints {
			out.Checkpoints[i].Best = out.Checkpoints[i].Step == best
		}
	}
	return out, nil
}

func (s *Server) bestStep(id, dir, key string) (int64, bool) {
	if key == "" {
		return 0, false
	}
	s.best.mu.Lock()
	defer s.best.mu.Unlock()
	if e, ok := s.best.byID[id]; ok && e.key == key {
		return e.step, true
	}
	step, err := bestStepOf(dir)
	if err != nil {
		return 0, false
	}
	if s.best.byID == nil {
		s.best.byID = map[string]bestEntry{}
	}
	s.best.byID[id] = bestEntry{key: key, step: step}
	return step, true
}

// export writes the job's model directory (<run dir>/model) from its best
// checkpoint or an average of its newest ones.
func (s *Server) export(id string, req api.ExportRequest) (api.ModelInfo, error) {
	if !s.jobs.exists(id) {
		return api.ModelInfo{}, s.jobs.notFound(id)
	}
	dir := s.jobs.dir(id)
	if req.Average != nil && *req.Average < 0 {
		return api.ModelInfo{}, errorf(http.StatusBadRequest, "average %d must be 0 (the best checkpoint) or more", *req.Average)
	}
	if !isRunDir(dir) {
		return api.ModelInfo{}, errorf(http.StatusConflict, "training job %q has no checkpoint yet: nothing to export", id)
	}
	s.exportMu.Lock()
	defer s.exportMu.Unlock()
	out := filepath.Join(dir, exportDir)
	m, err := exportModel(dir, out, req.Average, req.Float16)
	switch {
	case errors.Is(err, errNoCheckpoint):
		return api.ModelInfo{}, errorf(http.StatusConflict, "%v", err)
	case err != nil:
		return api.ModelInfo{}, fmt.Errorf("export: %w", err)
	}
	s.log.Info("exported", "job", id, "model", out, "step", m.Step)
	return s.describeModel(out, m), nil
}
