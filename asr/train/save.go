package train

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/model"
)

// save writes a checkpoint of the current step and applies the keep policy.
func (t *trainer) save() error {
	start := time.Now()
	weights, state := checkpoint.ModelVariables(t.gctx)
	for k := range state {
		if strings.HasPrefix(k, "/"+AccumulatorScope+"/") {
			delete(state, k)
		}
	}
	st := *t.state
	st.Epoch, st.Batch = t.pos.Epoch, t.pos.Batch
	cfgJSON, err := json.Marshal(t.cfg)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	m := &checkpoint.Manifest{
		Step:          t.step,
		Model:         t.model,
		Parameters:    model.CountParameters(t.gctx),
		Features:      t.cfg.Features.WithDefaults(),
		Normalization: t.norm,
		Vocabulary:    t.vocab,
		Metrics:       checkpoint.Metrics{LearningRate: t.lastLR},
		Training:      &st,
		Config:        cfgJSON,
	}
	if t.tokSinceCk > 0 {
		m.Metrics.TrainLoss = t.lossSinceCk / t.tokSinceCk
	}
	best := false
	if t.lastEval != nil && t.lastEval.Step == t.step {
		m.Metrics.Eval = t.lastEval
		if checkpoint.CompareEval(t.lastEval, t.best) <= 0 { // newest among equals, as checkpoint.Best
			t.best, best = t.lastEval, true
		}
	}
	ck, err := checkpoint.Save(t.runDir, m, weights, state)
	if err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	removed, err := checkpoint.Prune(t.runDir, t.cfg.Checkpoint.Keep, *t.cfg.Checkpoint.KeepBest)
	if err != nil {
		t.log.Warn("cannot remove old checkpoints", "err", err)
	}
	d := time.Since(start)
	t.res.CheckpointTime += d
	t.res.Checkpoint = ck.Dir
	t.lastSaved, t.lastSavedAt = t.step, time.Now()
	t.lossSinceCk, t.tokSinceCk = 0, 0
	t.emit(Event{Type: EventCheckpoint, Checkpoint: &CheckpointInfo{Dir: ck.Dir, Seconds: d.Seconds(), Best: best, Removed: removed}})
	t.writeStatus(t.current, "")
	return nil
}
