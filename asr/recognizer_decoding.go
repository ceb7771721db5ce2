package asr

import (
	"context"
	"errors"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/model"
)

// WithDecoding returns a Recognizer that runs r's acoustic model (the same
// weights, compiled graphs and backend: nothing is loaded or compiled
// again, so it is cheap enough to make per request) but decodes as opts
// say, starting from r's decoder: [WithBeam] changes the beam width (0
// keeps r's), [WithLMWeights] retunes r's language model, [WithoutLM]
// drops it and [WithLM] or [WithLanguageModel] replace it. Other options
// are an error.
//
// The result holds no resources of its own: closing it does nothing, and
// once r is closed its calls fail with [ErrClosed].
func (r *Recognizer) WithDecoding(opts ...Option) (*Recognizer, error) {
	if err := r.acquire(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.backend != "" || o.window != 0 || o.ctxt != 0 {
		return nil, errors.New("asr: WithDecoding takes decoding options only (not WithBackend or WithWindow)")
	}
	if b, ok := r.decoder.(decode.Beam); ok && !o.noLM && o.lm == nil && o.lmPath == "" {
		o.lm, o.lmWeight, o.wordBonus = b.LM, b.LMWeight, b.WordBonus
		if o.beam == 0 {
			o.beam = b.Width
		}
	}
	if err := o.applyWeights(); err != nil {
		return nil, err
	}
	// The same windows as r: whole model frames, back to durations.
	frames := func(n int) time.Duration { return time.Duration(n/model.SubsamplingFactor) * r.frameDur }
	o.window, o.ctxt = frames(r.window), frames(r.ctxFrames)
	v, err := assemble(r.info.Dir, r.info.Manifest, sharedModel{r}, o)
	if err != nil {
		return nil, err
	}
	v.info.Backend = r.info.Backend
	return v, nil
}

// sharedModel is the acoustic model of another Recognizer, used while that
// one is open.
type sharedModel struct{ r *Recognizer }

func (s sharedModel) logProbs(ctx context.Context, feats []float32, frames int) ([]float32, error) {
	if err := s.r.acquire(); err != nil {
		return nil, err
	}
	defer s.r.mu.RUnlock()
	return s.r.am.logProbs(ctx, feats, frames)
}

func (s sharedModel) vocabSize() int { return s.r.am.vocabSize() }

func (s sharedModel) close() {}
