package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestPrecisionValidate(t *testing.T) {
	for _, tc := range []struct {
		p     Precision
		dtype dtypes.DType
		ok    bool
	}{
		{"", dtypes.Float32, true},
		{PrecisionFloat32, dtypes.Float32, true},
		{PrecisionBFloat16, dtypes.BFloat16, true},
		{"float16", dtypes.InvalidDType, false},
		{"bf16", dtypes.InvalidDType, false},
	} {
		err := tc.p.Validate()
		if (err == nil) != tc.ok || tc.p.DType() != tc.dtype {
			t.Errorf("%q: Validate() = %v, DType() = %s", tc.p, err, tc.p.DType())
		}
		if err != nil && !strings.Contains(err.Error(), "want float32 or bfloat16") {
			t.Errorf("%q: error %q does not name the choices", tc.p, err)
		}
	}
}

// TestBFloat16CloseToFloat32 runs the same weights in both precisions: the
// variables stay float32, the output is float32 log-probabilities, and it
// differs from float32's by no more than bfloat16's rounding explains.
// The padding invariance holds in bfloat16 too.
func TestBFloat16CloseToFloat32(t *testing.T) {
	be := goBackend(t)
	cfg, _ := Preset("tiny")
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(5))
	r := rand.New(rand.NewPCG(5, 6))
	const frames = 64
	lengths := []int32{64, 41, 7}
	feats := make([][][]float32, len(lengths))
	for i := range feats {
		feats[i] = randomFeatures(r, frames, cfg.InputDim)
	}
	run := func(p Precision, feats [][][]float32, lengths []int32) [][][]float32 {
		t.Helper()
		exec, err := context.NewExec(be, ctx.Checked(false), func(ctx *context.Context, feats, lengths *graph.Node) *graph.Node {
			lp, _ := LogProbsWith(ctx, cfg, feats, lengths, Options{Precision: p})
			if lp.DType() != dtypes.Float32 {
				t.Errorf("%s: log-probs are %s", p, lp.DType())
			}
			return lp
		})
		if err != nil {
			t.Fatal(err)
		}
		defer exec.Finalize()
		out, err := exec.Exec(feats, lengths)
		if err != nil {
			t.Fatal(err)
		}
		return out[0].Value().([][][]float32)
	}
	// bfloat16 first: it creates the variables, which must be float32.
	low := run(PrecisionBFloat16, feats, lengths)
	n := 0
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/"+Scope+"/") {
			continue // the random-number state
		}
		n++
		if v.Shape().DType != dtypes.Float32 {
			t.Errorf("variable %s is %s, want float32", v.ScopeAndName(), v.Shape().DType)
		}
	}
	if n == 0 {
		t.Fatal("no variables")
	}
	full := run(PrecisionFloat32, feats, lengths)
	worst, sum, same, total := 0.0, 0.0, 0, 0
	for b := range lengths {
		for ti := range OutputLength(int(lengths[b])) {
			for v := range cfg.VocabSize {
				d := math.Abs(float64(low[b][ti][v] - full[b][ti][v]))
				worst, sum = max(worst, d), sum+d
			}
			if argmax(low[b][ti]) == argmax(full[b][ti]) {
				same++
			}
			total++
		}
	}
	mean := sum / float64(total*cfg.VocabSize)
	t.Logf("bfloat16 vs float32: log-prob difference %.3g on average, %.3g at most; same best symbol in %d of %d frames", mean, worst, same, total)
	// bfloat16 keeps 8 significant bits (relative rounding 2^-9): measured
	// 0.027 on average and 0.12 at most here; the bounds leave a factor 2.
	if mean > 0.05 || worst > 0.25 || worst == 0 {
		t.Errorf("bfloat16 log-probs differ from float32 by %.3g on average and %.3g at most, want <= 0.05 and in (0, 0.25]", mean, worst)
	}
	if same < total*9/10 {
		t.Errorf("best symbol agrees in %d of %d frames", same, total)
	}
	// Padding: the shortest utterance alone gives its batched log-probs
	// (to bfloat16's rounding: the padded frames are masked exactly, but
	// matrix products of other shapes may round differently).
	alone := run(PrecisionBFloat16, [][][]float32{feats[2][:7]}, []int32{7})
	for ti := range OutputLength(7) {
		for v := range cfg.VocabSize {
			if d := math.Abs(float64(alone[0][ti][v] - low[2][ti][v])); d > 0.05 {
				t.Fatalf("bfloat16: padding changes log-prob [%d][%d] by %.3g", ti, v, d)
			}
		}
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// TestUnknownPrecisionIsAnError builds the graph with an unknown precision:
// context.Exec reports the panic as an error naming the choices.
func TestUnknownPrecisionIsAnError(t *testing.T) {
	be := goBackend(t)
	cfg, _ := Preset("tiny")
	data := randomBatch(rand.New(rand.NewPCG(1, 1)), 1, 8, 2, cfg.VocabSize)
	_, err := context.ExecOnceN(be, context.New(), func(ctx *context.Context, feats, lengths *graph.Node) []*graph.Node {
		lp, n := LogProbsWith(ctx, cfg, feats, lengths, Options{Precision: "float8"})
		return []*graph.Node{lp, n}
	}, data.feats, data.lengths)
	if err == nil || !strings.Contains(err.Error(), `unknown precision "float8"`) {
		t.Errorf("err = %v", err)
	}
}
