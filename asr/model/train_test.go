package model

import (
	gocontext "context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/testutil"
)

// memoClips are four short real LJSpeech utterances. Two are whole clips;
// two are the start of a clip cut inside a pause, at a point checked by the
// energy contour (a run of frames 25-40 dB below speech) and by pocketsphinx,
// which recognises the part before the cut as the words below and the part
// after it as the rest of the LJSpeech transcript.
var memoClips = []struct {
	file    string
	seconds float64 // keep the first seconds; 0 keeps the whole clip
	text    string
}{
	{"LJ001-0002.wav", 0, "in being comparatively modern"},
	{"LJ001-0008.wav", 0, "has never been surpassed"},
	{"LJ001-0004.wav", 1.65, "produced the block books"},           // pause 1.52-1.78 s, then "which were"
	{"LJ001-0006.wav", 2.61, "and it is worth mention in passing"}, // pause 2.42-2.80 s, then "that"
}

// TestTrainTinyMemorisesClips trains tiny from scratch on four short real
// clips, in one padded batch, on the pure-Go backend, and checks that greedy
// decoding then gives each exact transcript, in the batch and alone. It
// stops as soon as all four are right (about 20-25 steps for the seeds
// tried), and fails if they are not after 300.
func TestTrainTinyMemorisesClips(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for about a minute")
	}
	const maxSteps, checkEvery = 300, 10
	start := time.Now()

	ext, err := features.NewExtractor(features.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	vocab := text.DefaultVocabulary()
	var mels []*features.LogMel
	var labels [][]int
	stats := features.NewStats(DefaultInputDim)
	for _, c := range memoClips {
		audio, err := features.DecodeFile(filepath.Join(testutil.Path(t, "ljspeech", "wavs"), c.file))
		if err != nil {
			t.Fatal(err)
		}
		samples := audio.Samples
		if c.seconds > 0 {
			samples = samples[:int(c.seconds*float64(audio.SampleRate))]
		}
		samples, err = features.Resample(samples, audio.SampleRate, ext.Config().SampleRate)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ext.Compute(samples)
		if err != nil {
			t.Fatal(err)
		}
		if err := stats.Add(m); err != nil {
			t.Fatal(err)
		}
		ids, err := vocab.Encode(text.Normalize(c.text))
		if err != nil {
			t.Fatal(err)
		}
		mels = append(mels, m)
		labels = append(labels, ids)
	}
	norm, err := stats.Normalization()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mels {
		if err := norm.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	data := padBatch(mels, labels)

	cfg, _ := Preset("tiny")
	cfg.Dropout = new(0.0) // memorising: regularisation only slows it down
	be := goBackend(t)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(7))
	step := newTrainStep(t, be, ctx, cfg, trainStepOptions{learningRate: 3e-3, warmup: 20, weightDecay: 1e-4, clipNorm: 5})
	infer, err := context.NewExec(be, ctx.Reuse(), func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
		return LogProbs(ctx, cfg, feats, lengths, false)
	})
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for s := 1; s <= maxSteps; s++ {
		loss, norm := step(data)
		if s%checkEvery != 0 && s != maxSteps {
			continue
		}
		got = greedyDecode(t, infer, data)
		t.Logf("step %d: loss %.3f, gradient norm %.2f, %v: %q", s, loss, norm, time.Since(start).Round(time.Second), got)
		if allMatch(got) {
			break
		}
	}
	for i, c := range memoClips {
		if got[i] != c.text {
			t.Errorf("%s after %d steps: decoded %q, want %q", c.file, maxSteps, got[i], c.text)
		}
	}
	if t.Failed() {
		return
	}
	// The trained model also transcribes each clip alone, without padding.
	for i, c := range memoClips {
		alone := padBatch(mels[i:i+1], labels[i:i+1])
		if got := greedyDecode(t, infer, alone)[0]; got != c.text {
			t.Errorf("%s alone: decoded %q, want %q (as in the padded batch)", c.file, got, c.text)
		}
	}
}

func allMatch(got []string) bool {
	for i, c := range memoClips {
		if got[i] != c.text {
			return false
		}
	}
	return true
}

// padBatch pads features with zeros and labels with blanks into one batch.
func padBatch(mels []*features.LogMel, labels [][]int) batch {
	frames, labelLen := 0, 0
	for i := range mels {
		frames = max(frames, mels[i].Frames)
		labelLen = max(labelLen, len(labels[i]))
	}
	n := len(mels)
	f := make([]float32, n*frames*DefaultInputDim)
	lengths := make([]int32, n)
	lab := make([]int32, n*labelLen)
	labLen := make([]int32, n)
	for i, m := range mels {
		copy(f[i*frames*DefaultInputDim:], m.Data)
		lengths[i] = int32(m.Frames)
		for j, id := range labels[i] {
			lab[i*labelLen+j] = int32(id)
		}
		labLen[i] = int32(len(labels[i]))
	}
	return batch{
		feats:        tensors.FromFlatDataAndDimensions(f, n, frames, DefaultInputDim),
		lengths:      tensors.FromFlatDataAndDimensions(lengths, n),
		labels:       tensors.FromFlatDataAndDimensions(lab, n, labelLen),
		labelLengths: tensors.FromFlatDataAndDimensions(labLen, n),
	}
}

// greedyDecode runs the inference graph on the batch and decodes each
// utterance's valid frames with asr/decode's greedy decoder.
func greedyDecode(t *testing.T, infer *context.Exec, b batch) []string {
	t.Helper()
	out, err := infer.Exec(b.feats, b.lengths)
	if err != nil {
		t.Fatal(err)
	}
	lp := out[0].Value().([][][]float32)
	outLen := out[1].Value().([]int32)
	texts := make([]string, len(lp))
	for i := range lp {
		rows, err := decode.FromRows(lp[i][:outLen[i]])
		if err != nil {
			t.Fatal(err)
		}
		res, err := decode.Greedy{}.Decode(gocontext.Background(), rows)
		if err != nil {
			t.Fatal(err)
		}
		texts[i] = res.Text
	}
	return texts
}
