package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/wer"
)

// evaluate runs the model in inference mode over the validation set (up to
// train.eval_max_utterances), decodes greedily and measures WER, CER and the
// per-token loss. It emits an eval event and records the result.
func (t *trainer) evaluate(ctx context.Context) error {
	t.setState(StateEvaluating, "")
	start := time.Now()
	compileBefore := t.res.CompileTime
	it := t.val.Epoch(ctx, 0)
	defer it.Close()
	var (
		corpus       wer.Corpus
		loss, tokens float64
		samples      []Sample
	)
	limit := t.cfg.Train.EvalMaxUtterances
	nSamples := *t.cfg.Train.EvalSamples
	greedy := decode.Greedy{Vocab: t.vocab}
	for limit == 0 || corpus.Utterances < limit {
		b, err := it.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("train: evaluation: %w", err)
		}
		out, err := t.run("eval", t.evalExec, b, batchTensors(b))
		if err != nil {
			return err
		}
		frames, vocab := out[0].Shape().Dim(1), out[0].Shape().Dim(2)
		var lp []float32
		tensors.MustConstFlatData(out[0], func(f []float32) { lp = append(lp[:0], f...) })
		outLen := out[1].Value().([]int32)
		rowLoss := out[2].Value().([]float32)
		release(out)
		for row := 0; row < b.Rows && (limit == 0 || corpus.Utterances < limit); row++ {
			n := int(outLen[row])
			res, err := greedy.Decode(ctx, decode.LogProbs{Data: lp[row*frames*vocab : (row*frames+n)*vocab], Frames: n, Vocab: vocab})
			if err != nil {
				return fmt.Errorf("train: evaluation: decoding %s: %w", b.IDs[row], err)
			}
			ref := t.targets[b.IDs[row]]
			corpus.Add(ref, res.Text)
			loss += float64(rowLoss[row])
			tokens += float64(b.LabelLengths[row])
			if len(samples) < nSamples {
				samples = append(samples, Sample{ID: b.IDs[row], Reference: ref, Hypothesis: res.Text})
			}
		}
	}
	m := &checkpoint.EvalMetrics{Step: t.step, WER: corpus.WER(), CER: corpus.CER(), Utterances: corpus.Utterances, Words: corpus.Words.RefLen()}
	if tokens > 0 {
		m.Loss = loss / tokens
	}
	d := time.Since(start) - (t.res.CompileTime - compileBefore)
	t.res.EvalTime += d
	t.lastEval = m
	t.emit(Event{Type: EventEval, Eval: &EvalResult{EvalMetrics: *m, Seconds: d.Seconds(), Samples: samples}})
	return nil
}
