package train

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"time"

	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/data"
	"github.com/asrkit/asrkit/asr/model"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/backend"
)

// prepare creates the backend, prepares the data, restores or initialises
// the state and builds the executors.
func (t *trainer) prepare(ctx context.Context, resume *checkpoint.Checkpoint) error {
	var err error
	if t.model, err = t.cfg.Model.Resolve(); err != nil {
		return err
	}
	t.vocab = text.DefaultVocabulary()
	t.opt = newAdamW(t.cfg.Train)
	// The checkpoint to resume from, or the model to fine-tune, must fit
	// this config before anything slow happens.
	init, err := t.checkStart(resume)
	if err != nil {
		return err
	}
	if err := t.newBackend(ctx); err != nil {
		return err
	}
	if err := t.prepareData(ctx, pick(resume, init)); err != nil {
		return err
	}
	if err := t.planSteps(); err != nil {
		return err
	}
	if err := t.initState(resume, init); err != nil {
		return err
	}
	return t.buildExecs()
}

// checkStart checks that the checkpoint to resume from fits the config, or
// opens and checks the model to fine-tune from (train.init_from), which it
// returns.
func (t *trainer) checkStart(resume *checkpoint.Checkpoint) (init *checkpoint.Checkpoint, err error) {
	if resume != nil {
		return nil, t.checkResume(resume)
	}
	if t.cfg.Train.InitFrom == "" {
		return nil, nil
	}
	if init, err = checkpoint.OpenModel(t.cfg.Train.InitFrom, t.log); err != nil {
		return nil, fmt.Errorf("train: train.init_from: %w", err)
	}
	return init, t.checkInit(init)
}

// newBackend creates the compute backend (--backend over train.backend).
func (t *trainer) newBackend(ctx context.Context) error {
	spec, src := backend.Resolve(t.opts.Backend, t.cfg.Train.Backend)
	var err error
	if t.backend, t.binfo, err = backend.New(ctx, spec); err != nil {
		return fmt.Errorf("train: backend %q (from %s): %w", spec, src, err)
	}
	t.res.Backend = t.binfo.String()
	t.log.Info("backend", "spec", spec, "from", string(src), "using", t.binfo.String())
	return nil
}

// prepareData prepares the datasets (feature cache, split, normalisation)
// and makes the training and validation loaders. A saved model (resumed or
// fine-tuned from) keeps its own normalisation.
func (t *trainer) prepareData(ctx context.Context, saved *checkpoint.Checkpoint) error {
	var err error
	t.ds, err = data.Prepare(ctx, t.cfg.Datasets, data.Options{
		Features: t.cfg.Features, Subsampling: model.SubsamplingFactor, Vocabulary: t.vocab,
		Progress: t.opts.Progress, Logger: t.log,
	})
	if err != nil {
		return fmt.Errorf("train: data: %w", err)
	}
	t.norm = t.ds.Normalization
	if saved != nil {
		t.norm = saved.Manifest.Normalization
	}
	if !sameNorm(t.norm, t.ds.Normalization) {
		t.log.Info("using the saved model's normalisation, not the one computed from this corpus", "model", saved.Dir)
		t.ds.Normalization = t.norm
	}
	sa := t.cfg.Train.SpecAugment.Resolve()
	if t.train, err = t.ds.Loader(data.Train, data.LoaderOptions{Training: true, SpecAugment: &sa}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if t.val, err = t.ds.Loader(data.Val, data.LoaderOptions{}); err != nil {
		t.log.Warn("no evaluation: no validation set", "err", err)
		t.val = nil
		return nil
	}
	t.targets = map[string]string{}
	for _, u := range t.ds.Utterances(data.Val) {
		t.targets[u.ID] = u.Target
	}
	return nil
}

// planSteps sets the number of steps (train.steps, or train.epochs over
// the training set) and the default warm-up.
func (t *trainer) planSteps() error {
	t.total = t.cfg.Train.Steps
	if t.total == 0 {
		perStep := float64(t.cfg.Train.GradAccumulation)
		t.total = int64(math.Ceil(t.cfg.Train.Epochs * float64(t.train.BatchesPerEpoch()) / perStep))
		if t.total < 1 {
			t.total = 1
		}
	}
	if t.cfg.Train.WarmupSteps == nil {
		t.cfg.Train.WarmupSteps = ptr(DefaultWarmup(t.total))
	}
	if w := *t.cfg.Train.WarmupSteps; w >= t.total && w > 0 {
		return fmt.Errorf("train: train.warmup_steps %d must be below the number of steps (%d)", w, t.total)
	}
	t.res.TotalSteps = t.total
	return nil
}

// initState makes the GoMLX context and the training state: restored from
// the checkpoint being resumed (weights, optimizer state, data position,
// counters), or fresh, with the weights of the model fine-tuned from, if
// any. Saved values reach the variables through a loader when the graphs
// are first built.
func (t *trainer) initState(resume, init *checkpoint.Checkpoint) error {
	t.gctx = gcontext.New()
	t.gctx.SetParam(gcontext.ParamInitialSeed, t.cfg.Train.Seed)
	precision := t.cfg.Train.Precision
	t.state = &checkpoint.TrainingState{TotalSteps: t.total, Seed: t.cfg.Train.Seed, Precision: precision}
	var err error
	switch {
	case resume != nil:
		if t.loader, err = resume.NewLoader(true); err != nil {
			return fmt.Errorf("train: resuming: %w", err)
		}
		t.restore(resume)
	case init != nil:
		vals, err := init.Tensors(false)
		if err != nil {
			return fmt.Errorf("train: train.init_from: %w", err)
		}
		from, to := init.Manifest.Model.NumLayers, t.model.NumLayers
		if to > from {
			if err := model.Deepen(vals, from, to); err != nil {
				return fmt.Errorf("train: train.init_from: %w", err)
			}
			t.log.Info("deepening", "from_layers", from, "to_layers", to,
				"how", "new blocks on top start as copies of the last with their residual outputs at zero: the model computes what init_from did")
		}
		t.loader = checkpoint.NewLoader(vals)
		t.log.Info("fine-tuning", "from", init.Dir, "step", init.Manifest.Step)
	}
	if t.loader != nil {
		t.gctx.SetLoader(t.loader)
	}
	t.lastSavedAt = time.Now()
	return nil
}

// restore takes the training state of the checkpoint being resumed.
func (t *trainer) restore(resume *checkpoint.Checkpoint) {
	m := resume.Manifest
	st := *m.Training
	t.state = &st
	t.step, t.lastSaved, t.res.ResumedFrom = m.Step, m.Step, m.Step
	t.pos = data.Position{Epoch: st.Epoch, Batch: st.Batch}
	t.lastEval = m.Metrics.Eval
	t.lastLR = m.Metrics.LearningRate
	precision := t.cfg.Train.Precision
	if was := cmp.Or(st.Precision, model.PrecisionFloat32); was != precision {
		t.log.Info("the compute precision changed since the checkpoint (the weights are float32 either way)", "was", was, "now", precision)
		t.state.Precision = precision
	}
	if st.TotalSteps != t.total {
		t.log.Warn("the number of steps changed since the checkpoint; the learning-rate schedule changes with it", "was", st.TotalSteps, "now", t.total)
		t.state.TotalSteps = t.total
	}
	t.best = t.bestSoFar()
	t.log.Info("resuming", "checkpoint", resume.Dir, "step", t.step, "epoch", t.pos.Epoch, "batch", t.pos.Batch)
}

// buildExecs makes the executors of the training step (or of gradient
// accumulation and the update) and of evaluation.
func (t *trainer) buildExecs() error {
	precision := t.cfg.Train.Precision
	var err error
	if t.cfg.Train.GradAccumulation == 1 {
		t.stepExec, err = gcontext.NewExec(t.backend, t.gctx, stepGraph(t.model, precision, t.opt))
	} else {
		t.accExec, err = gcontext.NewExec(t.backend, t.gctx, accumulateGraph(t.model, precision))
		if err == nil {
			t.applyExec, err = gcontext.NewExec(t.backend, t.gctx, applyGraph(t.opt))
		}
	}
	if err == nil && t.val != nil {
		t.evalExec, err = gcontext.NewExec(t.backend, t.gctx, evalGraph(t.model))
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
