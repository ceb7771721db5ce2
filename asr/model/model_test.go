package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/asrkit/asrkit/internal/strictyaml"
)

func TestOutputLength(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-3, 0}, {0, 0}, {1, 1}, {3, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 3}, {400, 100}, {1001, 251},
	} {
		if got := OutputLength(tc.in); got != tc.want {
			t.Errorf("OutputLength(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestPresetParameters(t *testing.T) {
	backend := goBackend(t)
	for _, tc := range []struct {
		preset   string
		min, max int
	}{
		{"tiny", 300_000, 999_999},
		{"small", 11_000_000, 14_000_000},
		{"medium", 25_000_000, 32_000_000},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			cfg, err := Preset(tc.preset)
			if err != nil {
				t.Fatal(err)
			}
			want := cfg.NumParameters()
			if want < tc.min || want > tc.max {
				t.Errorf("NumParameters() = %d, want in [%d, %d]", want, tc.min, tc.max)
			}
			stages, got, err := Summary(backend, cfg, 103)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("built graph has %d weights, NumParameters() = %d", got, want)
			}
			sum := 0
			for _, s := range stages {
				sum += s.Parameters
			}
			if sum != got {
				t.Errorf("stages own %d weights, graph has %d", sum, got)
			}
			last := stages[len(stages)-1]
			if last.Name != "output" || !equalInts(last.Shape, []int{1, OutputLength(103), cfg.VocabSize}) {
				t.Errorf("last stage %s %v, want output [1 %d %d]", last.Name, last.Shape, OutputLength(103), cfg.VocabSize)
			}
			if wantStages := 4 + cfg.NumLayers; len(stages) != wantStages {
				t.Errorf("got %d stages, want %d", len(stages), wantStages)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConfigResolve(t *testing.T) {
	small, _ := Preset("small")
	got, err := Config{Preset: "small", NumLayers: 3}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := small
	want.NumLayers = 3
	if got.DModel != want.DModel || got.NumLayers != 3 || got.ConvKernel != want.ConvKernel || *got.Dropout != *want.Dropout {
		t.Errorf("Resolve() = %+v, want %+v", got, want)
	}
	zero, err := Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if zero.Preset != DefaultPreset {
		t.Errorf("empty preset resolved to %q, want %q", zero.Preset, DefaultPreset)
	}
	noDropout, err := Config{Dropout: new(0.0)}.Resolve()
	if err != nil || *noDropout.Dropout != 0 {
		t.Errorf("explicit zero dropout: got %v, %v", noDropout.Dropout, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings, all of which must appear
	}{
		{"ok", Config{}, nil},
		{"unknown preset", Config{Preset: "huge"}, []string{`unknown preset "huge"`}},
		{"negative sizes", Config{DModel: -1, NumLayers: -2}, []string{"d_model must be positive", "num_layers must be positive"}},
		{"heads", Config{DModel: 100, NumHeads: 3}, []string{"not divisible by num_heads"}},
		{"odd head width", Config{DModel: 132, NumHeads: 4}, []string{"must be even"}},
		{"even kernel", Config{ConvKernel: 4}, []string{"conv_kernel must be a positive odd number"}},
		{"dropout", Config{Dropout: new(1.0)}, []string{"dropout must be in [0, 1)"}},
		{"vocab", Config{VocabSize: 1}, []string{"vocab_size must be at least 2"}},
		{"epsilon", Config{LayerNormEpsilon: -1}, []string{"layer_norm_epsilon"}},
		{"every problem at once", Config{Preset: "huge", ConvKernel: 2, VocabSize: -5},
			[]string{"unknown preset", "conv_kernel", "vocab_size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
			if tc.cfg.NumParameters() != 0 {
				t.Errorf("NumParameters() of an invalid config = %d, want 0", tc.cfg.NumParameters())
			}
		})
	}
}

// logProbsRunner returns a function that runs the inference graph of cfg
// on ctx for a batch [B, T, F] and returns log-probs [B][T'][V] and the
// output lengths. One runner serves every input shape.
func logProbsRunner(tb testing.TB, backend backends.Backend, ctx *context.Context, cfg Config) func(feats [][][]float32, lengths []int32) ([][][]float32, []int32) {
	tb.Helper()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, feats, lengths *graph.Node) (*graph.Node, *graph.Node) {
		return LogProbs(ctx, cfg, feats, lengths, false)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return func(feats [][][]float32, lengths []int32) ([][][]float32, []int32) {
		tb.Helper()
		out, err := exec.Exec(feats, lengths)
		if err != nil {
			tb.Fatal(err)
		}
		return out[0].Value().([][][]float32), out[1].Value().([]int32)
	}
}

// randomFeatures returns n frames of dim random values in [-2, 2).
func randomFeatures(r *rand.Rand, n, dim int) [][]float32 {
	f := make([][]float32, n)
	for i := range f {
		f[i] = make([]float32, dim)
		for j := range f[i] {
			f[i][j] = 4*r.Float32() - 2
		}
	}
	return f
}

func TestLogProbsShapesAndNormalisation(t *testing.T) {
	backend := goBackend(t)
	cfg, _ := Preset("tiny")
	ctx := context.New()
	r := rand.New(rand.NewPCG(1, 2))
	const frames = 37
	feats := [][][]float32{randomFeatures(r, frames, 80), randomFeatures(r, frames, 80), randomFeatures(r, frames, 80)}
	// An empty utterance must not give NaN; lengths out of range are clamped.
	lp, outLen := logProbsRunner(t, backend, ctx, cfg)(feats, []int32{99, 9, -5})
	if len(lp) != 3 || len(lp[0]) != OutputLength(frames) || len(lp[0][0]) != cfg.VocabSize {
		t.Fatalf("log-probs shape [%d][%d][%d], want [3][%d][%d]", len(lp), len(lp[0]), len(lp[0][0]), OutputLength(frames), cfg.VocabSize)
	}
	if outLen[0] != 10 || outLen[1] != 3 || outLen[2] != 0 {
		t.Errorf("output lengths %v, want [10 3 0]", outLen)
	}
	for b := range lp {
		for ti := range lp[b] {
			sum := 0.0
			for _, v := range lp[b][ti] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v > 0 {
					t.Fatalf("log-prob [%d][%d] = %v", b, ti, v)
				}
				sum += math.Exp(float64(v))
			}
			if math.Abs(sum-1) > 1e-4 {
				t.Errorf("probabilities at [%d][%d] sum to %v", b, ti, sum)
			}
		}
	}
}

// TestPaddingInvariance checks that an utterance gives the same log-probs
// alone and padded inside a batch, with garbage in the padding.
func TestPaddingInvariance(t *testing.T) {
	backend := goBackend(t)
	cfg, _ := Preset("tiny")
	cfg.NumLayers = 3
	ctx := context.New()
	r := rand.New(rand.NewPCG(3, 4))
	lengths := []int{29, 64, 1, 46, 63}
	const batchFrames = 71
	batch := make([][][]float32, len(lengths))
	batchLengths := make([]int32, len(lengths))
	alone := make([][][]float32, len(lengths))
	for i, n := range lengths {
		batch[i] = randomFeatures(r, batchFrames, 80) // frames past n are garbage
		alone[i] = batch[i][:n]
		batchLengths[i] = int32(n)
	}
	run := logProbsRunner(t, backend, ctx, cfg)
	got, gotLen := run(batch, batchLengths)
	worst := 0.0
	for i, n := range lengths {
		want, wantLen := run([][][]float32{alone[i]}, []int32{int32(n)})
		if gotLen[i] != wantLen[0] || int(wantLen[0]) != OutputLength(n) {
			t.Fatalf("utterance %d: output length %d in batch, %d alone, want %d", i, gotLen[i], wantLen[0], OutputLength(n))
		}
		for ti := range OutputLength(n) {
			for v := range cfg.VocabSize {
				worst = max(worst, math.Abs(float64(got[i][ti][v]-want[0][ti][v])))
			}
		}
	}
	t.Logf("largest difference between batched and alone: %.3g", worst)
	if worst > 1e-4 {
		t.Errorf("padding changes log-probs by %.3g, want <= 1e-4", worst)
	}
}

// TestConfigYAML decodes a training config's "model:" section strictly (as
// asr/train does) and checks the snake_case keys and the meaning of absent
// and zero values.
func TestConfigYAML(t *testing.T) {
	var doc struct {
		Model Config `yaml:"model"`
	}
	src := "model:\n  preset: small\n  num_layers: 4\n  conv_kernel: 15\n  dropout: 0\n  layer_norm_epsilon: 1e-6\n"
	if err := strictyaml.Decode([]byte(src), "config.yaml", &doc); err != nil {
		t.Fatal(err)
	}
	got, err := doc.Model.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if got.Preset != "small" || got.NumLayers != 4 || got.ConvKernel != 15 || *got.Dropout != 0 ||
		got.LayerNormEpsilon != 1e-6 || got.DModel != 176 || got.FFNDim != 704 {
		t.Errorf("decoded and resolved %+v (dropout %v)", got, *got.Dropout)
	}
	if err := strictyaml.Decode([]byte("model:\n  d_modle: 3\n"), "config.yaml", &doc); err == nil {
		t.Error("a misspelt key was accepted")
	}
}

// TestDropoutOnlyInTraining runs the graph twice in each mode: inference is
// deterministic, training (dropout 0.1) is not.
func TestDropoutOnlyInTraining(t *testing.T) {
	be := goBackend(t)
	cfg, _ := Preset("tiny")
	ctx := context.New()
	data := randomBatch(rand.New(rand.NewPCG(11, 12)), 2, 24, 3, cfg.VocabSize)
	for _, training := range []bool{false, true} {
		exec, err := context.NewExec(be, ctx.Checked(false), func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
			lp, _ := LogProbs(ctx, cfg, feats, lengths, training)
			return lp
		})
		if err != nil {
			t.Fatal(err)
		}
		var runs [2][]float32
		for i := range runs {
			out, err := exec.Exec(data.feats, data.lengths)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = tensors.MustCopyFlatData[float32](out[0])
		}
		same := true
		for i := range runs[0] {
			same = same && runs[0][i] == runs[1][i]
		}
		if same == training {
			t.Errorf("training=%v: two runs identical=%v", training, same)
		}
	}
}
