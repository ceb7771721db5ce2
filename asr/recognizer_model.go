package asr

import (
	"context"
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gcontext "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/model"
)

// acousticModel maps normalised feature frames to CTC log-probabilities.
// The Recognizer's windowing and decoding sit on top of it; tests give it
// models of their own.
type acousticModel interface {
	// logProbs runs the model on frames feature frames (row-major
	// [frames][bands], normalised) and returns model.OutputLength(frames)
	// rows of vocabSize log-probabilities. It is safe for concurrent use.
	logProbs(ctx context.Context, feats []float32, frames int) ([]float32, error)
	vocabSize() int
	close()
}

// graphModel runs model.LogProbs with GoMLX. Inputs are padded to a few
// fixed lengths (see bucketFrames) so that a handful of compiled graphs
// serve every call.
//
// Concurrency: GoMLX's Exec keeps its compiled graphs in a cache guarded by
// a mutex (a graph for a new length is built under it, so two calls never
// build the same one); executing a compiled graph takes a fresh set of
// buffers per call on both backends, and the weights are only read. The
// variables are all created, from the checkpoint, by warmUp before the
// Recognizer is returned, so later graph builds find them and change
// nothing that a running execution reads.
type graphModel struct {
	exec      *gcontext.Exec
	cfg       model.Config
	bands     int
	loader    *checkpoint.Loader
	maxFrames int // the window: inputs up to it are padded at most to it
}

func newGraphModel(be backends.Backend, cfg model.Config, bands int, loader *checkpoint.Loader) (*graphModel, error) {
	c, err := cfg.Resolve()
	if err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	if c.InputDim != bands {
		return nil, fmt.Errorf("the model reads %d bands but the features have %d", c.InputDim, bands)
	}
	ctx := gcontext.New()
	ctx.SetLoader(loader)
	exec, err := gcontext.NewExec(be, ctx.Reuse(), func(ctx *gcontext.Context, feats, lengths *graph.Node) *graph.Node {
		lp, _ := model.LogProbs(ctx, c, feats, lengths, false)
		return lp
	})
	if err != nil {
		return nil, fmt.Errorf("building the model: %w", err)
	}
	exec.SetMaxCache(-1) // bucketFrames bounds the number of graphs
	return &graphModel{exec: exec, cfg: c, bands: bands, loader: loader}, nil
}

func (m *graphModel) vocabSize() int { return m.cfg.VocabSize }

func (m *graphModel) close() { m.exec.Finalize() }

// bucketFrames is the padded length of an input of n frames: a multiple of
// 128 frames (1.28 s) up to 512, then of 256, but never past limit (the
// window, itself a length) when n is within it. A 16 s window needs at most
// 9 graphs; the padding costs at most a quarter of the work above 512
// frames.
func bucketFrames(n, limit int) int {
	const fine, coarse, switchAt = 128, 256, 512
	b := (n + coarse - 1) / coarse * coarse
	if n <= switchAt {
		b = max(fine, (n+fine-1)/fine*fine)
	}
	if n <= limit {
		b = min(b, limit)
	}
	return b
}

// warmUp builds and runs the smallest graph, which creates every model
// variable from the checkpoint, and checks that the checkpoint held exactly
// the model's weights.
func (m *graphModel) warmUp() error {
	n := bucketFrames(1, m.maxFrames)
	if _, err := m.logProbs(context.Background(), make([]float32, n*m.bands), n); err != nil {
		// Most often a manifest whose model section does not describe the
		// weights (GoMLX names the variable and both shapes).
		return fmt.Errorf("building the model that the manifest describes from its weights: %w", err)
	}
	if missing := m.loader.Missing(); len(missing) > 0 {
		return fmt.Errorf("%w: the checkpoint lacks weights the model needs: %s", ErrCorruptCheckpoint, strings.Join(missing, ", "))
	}
	if unused := m.loader.Unused(); len(unused) > 0 {
		return fmt.Errorf("%w: the checkpoint holds weights the model does not use (a different model configuration?): %s", ErrCorruptCheckpoint, strings.Join(unused, ", "))
	}
	return nil
}

func (m *graphModel) logProbs(ctx context.Context, feats []float32, frames int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if frames <= 0 || len(feats) != frames*m.bands {
		return nil, fmt.Errorf("internal error: %d feature values for %d frames of %d bands", len(feats), frames, m.bands)
	}
	padded := bucketFrames(frames, m.maxFrames)
	in := make([]float32, padded*m.bands)
	copy(in, feats)
	out, err := m.exec.Exec(tensors.FromFlatDataAndDimensions(in, 1, padded, m.bands), tensors.FromValue([]int32{int32(frames)}))
	if err != nil {
		return nil, fmt.Errorf("running the model: %w", err)
	}
	lp := out[0]
	defer func() {
		for _, t := range out {
			_ = t.FinalizeAll()
		}
	}()
	steps, vocab := model.OutputLength(frames), m.cfg.VocabSize
	if dims := lp.Shape().Dimensions; len(dims) != 3 || dims[1] < steps || dims[2] != vocab {
		return nil, fmt.Errorf("internal error: model output %s for %d frames", lp.Shape(), frames)
	}
	res := make([]float32, steps*vocab)
	err = tensors.ConstFlatData(lp, func(flat []float32) { copy(res, flat[:steps*vocab]) })
	if err != nil {
		return nil, fmt.Errorf("reading the model output: %w", err)
	}
	return res, nil
}
