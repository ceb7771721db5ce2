package checkpoint

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/lm"
	"github.com/asrkit/asrkit/internal/tensorfile"
)

// ExportOptions configure [Export].
type ExportOptions struct {
	// Average chooses the weights exported from a run directory: 1 the
	// best checkpoint ([Best]); K >= 2 the element-wise mean of the weights
	// of the K newest usable checkpoints; 0 (the default) what the run's
	// training config asks for (checkpoint.average_last, read from its
	// newest checkpoint), the best checkpoint when it asks for nothing.
	// From a single checkpoint or model directory only 0 and 1 are
	// possible.
	Average int
	// Float16 stores the weights in IEEE half precision (half the size; they
	// are read back as float32).
	Float16 bool
	// Overwrite replaces an existing model directory at the output path.
	// Without it an existing output path is an error.
	Overwrite bool
	// LM, when set, is an ARPA language model file (plain or
	// gzip-compressed) that the model directory carries as [LMFile] and
	// decodes with by default (see [Decoding]): beam search of Beam
	// prefixes (0 means decode.DefaultWidth) with LMWeight (0 means
	// decode.DefaultLMWeight) and WordBonus. A model directory exported
	// from one that carries a language model keeps it, and its decoding
	// settings, unless LM is set.
	LM        string
	Beam      int
	LMWeight  float64
	WordBonus float64
	// Logger receives a warning for each damaged checkpoint skipped; nil
	// means silence.
	Logger *slog.Logger
}

// Export writes a model directory at out from src: a run directory (its
// best checkpoint, or the average of its newest checkpoints, see
// [ExportOptions]) or a single checkpoint directory. The model directory
// holds the manifest (model, feature, normalisation and vocabulary
// configuration, the training configuration, metrics) and the weights,
// without optimizer state. It is written atomically. The returned
// Checkpoint describes what was written.
func Export(src, out string, opts ExportOptions) (*Checkpoint, error) {
	if opts.Average < 0 {
		return nil, fmt.Errorf("export: average must be >= 0, got %d", opts.Average)
	}
	if err := checkExportTarget(src, out, opts.Overwrite); err != nil {
		return nil, err
	}
	base, weights, steps, runDir, err := exportSource(src, opts)
	if err != nil {
		return nil, err
	}
	m := *base.Manifest
	m.Kind = KindModel
	m.Training = nil
	if abs, err := filepath.Abs(runDir); err == nil {
		runDir = abs
	}
	m.Export = &ExportInfo{Source: runDir, Checkpoints: steps, Averaged: len(steps) > 1, Float16: opts.Float16}
	if len(steps) > 1 {
		// The evaluation was of one checkpoint, not of the average.
		m.Metrics.Eval = nil
	}
	extra, err := exportLM(base, &m, opts)
	if err != nil {
		return nil, err
	}
	out = filepath.Clean(out)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := writeDir(out, &m, weights, nil, tensorfile.Options{Float16: opts.Float16}, extra); err != nil {
		return nil, err
	}
	return &Checkpoint{Dir: out, Manifest: &m}, nil
}

// exportSource reads what Export exports: the checkpoint whose manifest
// the model directory takes, the weights, the steps they come from, and
// the run directory they belong to.
func exportSource(src string, opts ExportOptions) (base *Checkpoint, weights map[string]*tensors.Tensor, steps []int64, runDir string, err error) {
	runDir = src
	switch k := opts.Average; {
	case IsRunDir(src) && k == 0:
		opts.Average = defaultAverage(src)
		return exportSource(src, opts)
	case IsRunDir(src) && k >= 2:
		cs, err := newestUsable(src, k, opts.Logger)
		if err != nil {
			return nil, nil, nil, "", err
		}
		if weights, err = averageWeights(cs); err != nil {
			return nil, nil, nil, "", err
		}
		for _, c := range cs {
			steps = append(steps, c.Manifest.Step)
		}
		return cs[len(cs)-1], weights, steps, runDir, nil
	case IsRunDir(src):
		base, err = Best(src, opts.Logger)
	case k >= 2:
		return nil, nil, nil, "", fmt.Errorf("export: averaging needs a run directory, %s is a single checkpoint or model", src)
	default:
		base, err = Open(src)
		if err == nil && base.Manifest.Kind == KindModel && base.Manifest.Export != nil {
			runDir = base.Manifest.Export.Source
		} else {
			runDir = filepath.Dir(filepath.Dir(src))
		}
	}
	if err != nil {
		return nil, nil, nil, "", err
	}
	if weights, err = base.Tensors(false); err != nil {
		return nil, nil, nil, "", err
	}
	steps = []int64{base.Manifest.Step}
	if x := base.Manifest.Export; base.Manifest.Kind == KindModel && x != nil && len(x.Checkpoints) > 0 {
		steps = x.Checkpoints // a model directory re-exported: the same weights
	}
	return base, weights, steps, runDir, nil
}

// defaultAverage is checkpoint.average_last of the training config stored
// in a run directory's newest readable checkpoint (1 when it has none).
func defaultAverage(runDir string) int {
	list, err := List(runDir)
	if err != nil {
		return 1
	}
	for i := len(list) - 1; i >= 0; i-- {
		if m := list[i].Manifest; m != nil {
			var cfg struct {
				Checkpoint struct {
					AverageLast int `json:"average_last"`
				} `json:"checkpoint"`
			}
			if json.Unmarshal(m.Config, &cfg) == nil && cfg.Checkpoint.AverageLast >= 2 {
				return cfg.Checkpoint.AverageLast
			}
			return 1
		}
	}
	return 1
}

// exportLM sets the model directory's decoding and returns the language
// model file it carries, if any.
func exportLM(base *Checkpoint, m *Manifest, opts ExportOptions) ([]namedFile, error) {
	switch {
	case opts.LM != "":
		data, err := readLM(opts.LM)
		if err != nil {
			return nil, err
		}
		// Invalid settings are refused by the manifest's validation in writeDir.
		m.Decoding = &Decoding{Beam: opts.Beam, LM: LMFile, LMWeight: opts.LMWeight, WordBonus: opts.WordBonus}
		if m.Decoding.Beam == 0 { // record the defaults, so that the manifest says what runs
			m.Decoding.Beam = decode.DefaultWidth
		}
		if m.Decoding.LMWeight == 0 {
			m.Decoding.LMWeight = decode.DefaultLMWeight
		}
		return []namedFile{{LMFile, data}}, nil
	case m.Decoding != nil && m.Decoding.LM != "":
		data, err := base.ReadFile(m.Decoding.LM)
		if err != nil {
			return nil, err
		}
		return []namedFile{{m.Decoding.LM, data}}, nil
	}
	return nil, nil
}

// readLM reads an ARPA file, checks that it is a valid language model, and
// returns it gzip-compressed.
func readLM(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("export: language model: %w", err)
	}
	if _, err := lm.ReadARPA(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("export: language model %s: %w", path, err)
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return data, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("export: compressing the language model: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export: compressing the language model: %w", err)
	}
	return buf.Bytes(), nil
}

// checkExportTarget refuses to write over anything but a model directory,
// and over that only with overwrite.
func checkExportTarget(src, out string, overwrite bool) error {
	if out == "" {
		return errors.New("export: no output directory")
	}
	as, _ := filepath.Abs(src)
	ao, _ := filepath.Abs(out)
	if as == ao {
		return fmt.Errorf("export: the output %s is the source", out)
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("export: %w", err)
	case len(entries) == 0:
		return nil // an empty folder is replaced
	case !overwrite:
		return fmt.Errorf("export: %s already exists (overwrite it with --force)", out)
	}
	m, err := ReadManifest(out)
	if err != nil || m.Kind != KindModel {
		return fmt.Errorf("export: %s exists and is not a model directory; refusing to replace it", out)
	}
	return nil
}

// newestUsable returns the n newest usable checkpoints of a run directory,
// oldest first.
func newestUsable(runDir string, n int, log *slog.Logger) ([]*Checkpoint, error) {
	list, err := List(runDir)
	if err != nil {
		return nil, err
	}
	var out []*Checkpoint
	for i := len(list) - 1; i >= 0 && len(out) < n; i-- {
		c, err := usable(list[i])
		if err != nil {
			warn(log, "skipping unusable checkpoint", "dir", list[i].Dir, "err", err)
			continue
		}
		out = append(out, c)
	}
	if len(out) < n {
		return nil, fmt.Errorf("%w: averaging %d checkpoints, but %s has only %d usable (checkpoint.keep must be at least the number averaged)", ErrNoCheckpoint, n, runDir, len(out))
	}
	slices.Reverse(out)
	return out, nil
}

// averageWeights returns the element-wise mean of the checkpoints' weights,
// after checking that they describe the same model.
func averageWeights(cs []*Checkpoint) (map[string]*tensors.Tensor, error) {
	ref := cs[len(cs)-1]
	refKey, err := modelKey(ref.Manifest)
	if err != nil {
		return nil, err
	}
	var sums map[string][]float64
	var shapes map[string]*tensors.Tensor
	for _, c := range cs {
		k, err := modelKey(c.Manifest)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(k, refKey) {
			return nil, fmt.Errorf("export: %s and %s have different model, feature, normalisation or vocabulary configurations; they cannot be averaged", c.Dir, ref.Dir)
		}
		ws, err := c.Tensors(false)
		if err != nil {
			return nil, err
		}
		if sums == nil {
			sums, shapes = map[string][]float64{}, map[string]*tensors.Tensor{}
			for name, t := range ws {
				if t.DType() != dtypes.Float32 {
					return nil, fmt.Errorf("export: weight %q is %s; only float32 weights can be averaged", name, t.DType())
				}
				sums[name] = make([]float64, t.Shape().Size())
				shapes[name] = t
			}
		}
		if len(ws) != len(sums) {
			return nil, fmt.Errorf("export: %s has %d weights, %s has %d", c.Dir, len(ws), cs[0].Dir, len(sums))
		}
		for name, t := range ws {
			s, ok := sums[name]
			if !ok || !t.Shape().Equal(shapes[name].Shape()) {
				return nil, fmt.Errorf("export: weight %q of %s does not match %s", name, c.Dir, cs[0].Dir)
			}
			tensors.MustConstFlatData(t, func(flat []float32) {
				for i, v := range flat {
					s[i] += float64(v)
				}
			})
		}
	}
	out := make(map[string]*tensors.Tensor, len(sums))
	inv := 1 / float64(len(cs))
	for name, s := range sums {
		t := tensors.FromShape(shapes[name].Shape())
		tensors.MustMutableFlatData(t, func(flat []float32) {
			for i := range flat {
				flat[i] = float32(s[i] * inv)
			}
		})
		out[name] = t
	}
	return out, nil
}

// modelKey is the JSON of everything that defines a model's inputs and
// outputs; equal keys mean compatible weights.
func modelKey(m *Manifest) ([]byte, error) {
	return json.Marshal(struct {
		A, B, C, D any
	}{m.Model, m.Features, m.Normalization, m.Vocabulary})
}
