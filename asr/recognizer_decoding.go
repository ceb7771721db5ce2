package asr

import (
	"context"
	"fmt"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/model"
)

// WithDecoding returns a Recognizer that runs r's acoustic model (the same
// weights, compiled graphs and backend: nothing is loaded or compiled
// again, so it is cheap enough to make per request) but decodes as d says,
// starting from r's decoder rather than from the model directory: a zero
// Beam keeps r's width, LMWeight or WordBonus retune r's language model,
// NoLM drops it, and LM or LanguageModel replace it. The windows and the
// endpoint interval are r's.
//
// The result holds no resources of its own: closing it does nothing, and
// once r is closed its calls fail with [ErrClosed].
func (r *Recognizer) WithDecoding(d DecodingOptions) (*Recognizer, error) {
	return r.variant(d, -1)
}

// WithEndpointInterval returns a Recognizer that runs r's acoustic model
// and decodes as r does, but looks for pauses every d of audio (see
// [Options.EndpointInterval]; 0 only at full windows): what a live stream
// wants when r serves whole files, which need no such looks. Like
// [Recognizer.WithDecoding], it holds no resources of its own.
func (r *Recognizer) WithEndpointInterval(d time.Duration) (*Recognizer, error) {
	if d < 0 {
		return nil, wrapErr("endpoint interval", r.info.Dir, fmt.Errorf("%w: endpoint interval %v is negative", ErrOptions, d))
	}
	return r.variant(DecodingOptions{}, d)
}

// variant makes a Recognizer sharing r's model, decoding as d says from
// r's decoder, with an endpoint interval of endpoint (negative: r's).
func (r *Recognizer) variant(d DecodingOptions, endpoint time.Duration) (*Recognizer, error) {
	if err := r.acquire(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	o := &Options{Decoding: d}
	if err := o.Validate(); err != nil {
		return nil, wrapErr("decoding", r.info.Dir, fmt.Errorf("%w: %w", ErrOptions, err))
	}
	spec := decoderSpec{beam: d.Beam, lmPath: d.LM, lm: d.LanguageModel, lmWeight: d.LMWeight, wordBonus: d.WordBonus}
	if b, ok := r.decoder.(decode.Beam); ok && !d.NoLM && !spec.hasLM() {
		spec.lm = b.LM
		if spec.beam == 0 {
			spec.beam = b.Width
		}
		if d.LMWeight == 0 && d.WordBonus == 0 {
			spec.lmWeight, spec.wordBonus = b.LMWeight, b.WordBonus
		}
	}
	if !spec.hasLM() && spec.lmWeight != 0 {
		return nil, wrapErr("decoding", r.info.Dir, fmt.Errorf("%w: a language-model weight (%g) without a language model", ErrOptions, spec.lmWeight))
	}
	// The same windows as r: whole model frames, back to durations.
	frames := func(n int) time.Duration { return time.Duration(n/model.SubsamplingFactor) * r.frameDur }
	o.Window, o.Context = frames(r.window), frames(r.ctxFrames)
	if endpoint >= 0 {
		o.EndpointInterval = endpoint
	} else if r.check > 0 {
		o.EndpointInterval = frames(r.check)
	}
	v, err := assemble(r.info.Dir, r.info.Manifest, sharedModel{r}, spec, o)
	if err != nil {
		return nil, wrapErr("decoding", r.info.Dir, err)
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
