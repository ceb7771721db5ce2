package decode

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/asr/text"
	"github.com/asrkit/asrkit/internal/testutil"
)

// benchInputs returns synthetic posteriors (synthPosteriors) for the
// held-out LJSpeech sentences of testdata/lm, and their total frames.
func benchInputs(b *testing.B) ([]LogProbs, int) {
	data, err := os.ReadFile(testutil.Path(b, "lm", "ljspeech_heldout.txt"))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var out []LogProbs
	frames := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		lp := synthPosteriors(rng, text.DefaultVocabulary(), line)
		out = append(out, lp)
		frames += lp.Frames
	}
	return out, frames
}

// benchLM returns a trigram model of testdata/lm/ljspeech_400.txt, or the
// ARPA file named by ASRKIT_BENCH_LM.
func benchLM(b *testing.B) *lm.Model {
	if p := os.Getenv("ASRKIT_BENCH_LM"); p != "" {
		m, err := lm.LoadARPA(p)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	data, err := os.ReadFile(testutil.Path(b, "lm", "ljspeech_400.txt"))
	if err != nil {
		b.Fatal(err)
	}
	est, _ := lm.NewEstimator(3)
	if err := est.ReadText(context.Background(), strings.NewReader(string(data))); err != nil {
		b.Fatal(err)
	}
	m, _, err := est.Build(lm.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// runBench decodes every input per iteration and reports the decoding time
// per second of audio at 25 frames per second (the default 40 ms frames):
// wall time (µs/s-audio) and process CPU time (cpu-µs/s-audio), which is
// less sensitive to other processes competing for the CPUs.
func runBench(b *testing.B, d Decoder, inputs []LogProbs, frames int) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for b.Loop() {
		for _, lp := range inputs {
			if _, err := d.Decode(context.Background(), lp); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := processCPUTime() - cpu0
	audioSeconds := float64(frames) * DefaultFrameDuration.Seconds()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/audioSeconds, "µs/s-audio")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/audioSeconds, "cpu-µs/s-audio")
}

func BenchmarkGreedy(b *testing.B) {
	inputs, frames := benchInputs(b)
	runBench(b, Greedy{}, inputs, frames)
}

func BenchmarkBeam(b *testing.B) {
	inputs, frames := benchInputs(b)
	model := benchLM(b)
	for _, c := range []struct {
		name string
		beam Beam
	}{
		{"width=8", Beam{Width: 8}},
		{"width=8/tokenmin=-10", Beam{Width: 8, TokenMinLogProb: -10}},
		{"width=8/unpruned", Beam{Width: 8, TokenMinLogProb: math.Inf(-1), BeamPruneLogProb: math.Inf(-1)}},
		{"width=32", Beam{Width: 32}},
		{"width=8/lm", Beam{Width: 8, LM: model, WordBonus: 1}},
		{"width=32/lm", Beam{Width: 32, LM: model, WordBonus: 1}},
	} {
		b.Run(c.name, func(b *testing.B) { runBench(b, c.beam, inputs, frames) })
	}
}

// BenchmarkAlign measures the Viterbi alignment that times the words of a
// beam result.
func BenchmarkAlign(b *testing.B) {
	inputs, frames := benchInputs(b)
	labels := make([][]int, len(inputs))
	for i, lp := range inputs {
		r, _ := Greedy{}.Decode(context.Background(), lp)
		labels[i], _ = text.DefaultVocabulary().Encode(r.Text)
	}
	b.ResetTimer()
	for b.Loop() {
		for i, lp := range inputs {
			if _, err := align(lp, labels[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/(float64(frames)*0.04), "µs/s-audio")
}
