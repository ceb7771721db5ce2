package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/model"
)

// Checks that a saved model fits the config it is resumed or fine-tuned
// with.

func pick(a, b *checkpoint.Checkpoint) *checkpoint.Checkpoint {
	if a != nil {
		return a
	}
	return b
}

func sameNorm(a, b features.Normalization) bool {
	if len(a.Mean) != len(b.Mean) || len(a.Std) != len(b.Std) {
		return false
	}
	for i := range a.Mean {
		if a.Mean[i] != b.Mean[i] || a.Std[i] != b.Std[i] {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// checkResume refuses a checkpoint of another model and warns about other
// changes of the configuration.
func (t *trainer) checkResume(ck *checkpoint.Checkpoint) error {
	m := ck.Manifest
	var errs []error
	if !jsonEqual(m.Model, t.model) {
		errs = append(errs, fmt.Errorf("model: the checkpoint's is %s, the config's %s", compact(m.Model), compact(t.model)))
	}
	if !jsonEqual(m.Features.WithDefaults(), t.cfg.Features.WithDefaults()) {
		errs = append(errs, fmt.Errorf("features: the checkpoint's are %s, the config's %s", compact(m.Features), compact(t.cfg.Features.WithDefaults())))
	}
	if !m.Vocabulary.Equal(t.vocab) {
		errs = append(errs, errors.New("vocabulary differs"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("train: cannot resume from %s, it is not this config's model (use another checkpoint.dir, or --fresh --force to start over): %w", ck.Dir, errors.Join(errs...))
	}
	var was Config
	if err := json.Unmarshal(m.Config, &was); err == nil {
		was = was.WithDefaults()
		for _, s := range []struct {
			name string
			a, b any
		}{{"train", was.Train, t.cfg.Train}, {"datasets", was.Datasets, t.cfg.Datasets}, {"checkpoint", was.Checkpoint, t.cfg.Checkpoint}} {
			if !jsonEqual(s.a, s.b) {
				t.log.Warn("the config changed since the checkpoint; the resumed run will differ from an uninterrupted one", "section", s.name)
			}
		}
	}
	return nil
}

// checkInit refuses to fine-tune a model whose inputs or outputs differ. A
// model with more Conformer blocks than init_from's, otherwise equal, is
// deepened from it (model.Deepen).
func (t *trainer) checkInit(c *checkpoint.Checkpoint) error {
	m := c.Manifest
	var errs []error
	if !m.Vocabulary.Equal(t.vocab) {
		errs = append(errs, fmt.Errorf("its vocabulary is %q, this config's %q", strings.Join(m.Vocabulary.Symbols(), ""), strings.Join(t.vocab.Symbols(), "")))
	}
	if !jsonEqual(m.Features.WithDefaults(), t.cfg.Features.WithDefaults()) {
		errs = append(errs, fmt.Errorf("its features are %s, this config's %s", compact(m.Features), compact(t.cfg.Features.WithDefaults())))
	}
	a, b := m.Model, t.model
	a.Dropout, b.Dropout = nil, nil
	if b.NumLayers > a.NumLayers {
		a.NumLayers = b.NumLayers // deepened (see initState)
	}
	if !jsonEqual(a, b) {
		errs = append(errs, fmt.Errorf("its model is %s, this config's %s", compact(a), compact(b)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("train: train.init_from %s does not fit this config: %w", c.Dir, errors.Join(errs...))
	}
	return nil
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// bestSoFar returns the best evaluation among the run's checkpoints.
func (t *trainer) bestSoFar() *checkpoint.EvalMetrics {
	list, _ := checkpoint.List(t.runDir)
	var best *checkpoint.EvalMetrics
	for _, c := range list {
		if c.Manifest != nil && checkpoint.CompareEval(c.Manifest.Metrics.Eval, best) <= 0 {
			best = c.Manifest.Metrics.Eval
		}
	}
	return best
}

// checkRestored verifies, after the first step, that the checkpoint being
// resumed or fine-tuned from fitted the model exactly.
func (t *trainer) checkRestored() error {
	l := t.loader
	t.loader = nil
	t.gctx.SetLoader(nil)
	if missing := l.Missing(); len(missing) > 0 {
		return fmt.Errorf("train: the checkpoint lacks %d of the model's weights (e.g. %s): it is of another model", len(missing), missing[0])
	}
	if unused := l.Unused(); len(unused) > 0 {
		var weights []string
		for _, u := range unused {
			if strings.HasPrefix(u, "/"+model.Scope+"/") {
				weights = append(weights, u)
			}
		}
		if len(weights) > 0 {
			return fmt.Errorf("train: the checkpoint holds %d weights the model does not use (e.g. %s): it is of another model", len(weights), weights[0])
		}
		t.log.Debug("checkpoint values not used", "names", unused)
	}
	return nil
}
