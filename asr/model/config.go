package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Defaults shared by every preset.
const (
	// DefaultInputDim is the number of log-mel bands the model reads per frame.
	DefaultInputDim = 80
	// DefaultVocabSize is the size of asrkit's default character vocabulary
	// (CTC blank, space, a–z, apostrophe; see asr/text).
	DefaultVocabSize = 29
	// DefaultPreset is the preset used when Config.Preset is empty.
	DefaultPreset = "tiny"
	// DefaultLayerNormEpsilon is the epsilon of every LayerNorm (NeMo's value;
	// GoMLX's own default of 1e-3 is too large for activations near unit scale).
	DefaultLayerNormEpsilon = 1e-5
	// SubsamplingFactor is how many input frames make one output frame.
	SubsamplingFactor = 4
)

// Config describes the acoustic model: subsampling x4, a Conformer encoder
// and a linear output layer with log-softmax.
//
// Every zero field takes the value of the preset named by Preset (which
// itself defaults to [DefaultPreset]), so a Config that only names a preset,
// or a preset plus a few overrides, is complete. [Config.Resolve] returns the
// filled-in configuration; checkpoints should store the resolved form so that
// a later change of a preset does not change a saved model.
//
// The YAML keys are snake_case because the training configuration embeds a
// Config under "model:".
type Config struct {
	// Preset names the base configuration: "tiny", "small" or "medium".
	// Empty means DefaultPreset ("tiny").
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty"`

	// InputDim is the number of feature bands per input frame. Zero means 80.
	InputDim int `yaml:"input_dim,omitempty" json:"input_dim,omitempty"`
	// VocabSize is the number of output symbols including the CTC blank at
	// id 0. Zero means 29 (asr/text's default vocabulary).
	VocabSize int `yaml:"vocab_size,omitempty" json:"vocab_size,omitempty"`

	// SubsamplingDim is the width of the first stride-2 stage of the
	// frame-stacking subsampler. Zero means the preset's value.
	SubsamplingDim int `yaml:"subsampling_dim,omitempty" json:"subsampling_dim,omitempty"`
	// DModel is the width of the encoder. Zero means the preset's value.
	DModel int `yaml:"d_model,omitempty" json:"d_model,omitempty"`
	// NumLayers is the number of Conformer blocks. Zero means the preset's value.
	NumLayers int `yaml:"num_layers,omitempty" json:"num_layers,omitempty"`
	// NumHeads is the number of self-attention heads; it must divide DModel
	// into an even head width (rotary position embeddings rotate pairs).
	// Zero means the preset's value.
	NumHeads int `yaml:"num_heads,omitempty" json:"num_heads,omitempty"`
	// FFNDim is the hidden width of each feed-forward module. Zero means the
	// preset's value (4 x DModel in every preset).
	FFNDim int `yaml:"ffn_dim,omitempty" json:"ffn_dim,omitempty"`
	// ConvKernel is the (odd) kernel size of the depthwise convolution in
	// the convolution module. Zero means the preset's value.
	ConvKernel int `yaml:"conv_kernel,omitempty" json:"conv_kernel,omitempty"`
	// Dropout is the dropout rate used during training after the subsampler,
	// inside the feed-forward modules and on the output of each residual
	// branch. Nil means the preset's value; a pointer to 0 disables dropout.
	Dropout *float64 `yaml:"dropout,omitempty" json:"dropout,omitempty"`
	// LayerNormEpsilon is added to the variance in every LayerNorm. Zero
	// means DefaultLayerNormEpsilon (1e-5).
	LayerNormEpsilon float64 `yaml:"layer_norm_epsilon,omitempty" json:"layer_norm_epsilon,omitempty"`
}

// presets holds the fully resolved presets.
//
// small and medium follow NeMo's Conformer-CTC small (d_model 176, 16 layers,
// 4 heads, FFN x4, kernel 31) and medium (d_model 256, 18 layers, 4 heads).
// tiny (469k weights) is sized for the pure-Go CPU backend, whose matrix
// products run at about 10 GFLOP/s on two cores: a training step of a batch
// of 8 four-second clips must take under half a second there
// (BenchmarkTrainStep).
var presets = map[string]Config{
	"tiny": {
		Preset: "tiny", InputDim: DefaultInputDim, VocabSize: DefaultVocabSize,
		SubsamplingDim: 96, DModel: 96, NumLayers: 2, NumHeads: 4, FFNDim: 384,
		ConvKernel: 15, Dropout: ptr(0.1), LayerNormEpsilon: DefaultLayerNormEpsilon,
	},
	"small": {
		Preset: "small", InputDim: DefaultInputDim, VocabSize: DefaultVocabSize,
		SubsamplingDim: 176, DModel: 176, NumLayers: 16, NumHeads: 4, FFNDim: 704,
		ConvKernel: 31, Dropout: ptr(0.1), LayerNormEpsilon: DefaultLayerNormEpsilon,
	},
	"medium": {
		Preset: "medium", InputDim: DefaultInputDim, VocabSize: DefaultVocabSize,
		SubsamplingDim: 256, DModel: 256, NumLayers: 18, NumHeads: 4, FFNDim: 1024,
		ConvKernel: 31, Dropout: ptr(0.1), LayerNormEpsilon: DefaultLayerNormEpsilon,
	},
}

func ptr[T any](v T) *T { return &v }

// PresetNames returns the names of the presets, smallest first.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return presets[names[i]].NumParameters() < presets[names[j]].NumParameters()
	})
	return names
}

// Preset returns the fully resolved configuration of a named preset:
// "tiny" (469k parameters, for CPU training and tests), "small" (11.7M,
// NeMo Conformer-CTC small's shape) or "medium" (27.6M, NeMo's medium).
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("model: unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
	}
	c.Dropout = ptr(*c.Dropout) // callers may modify their copy
	return c, nil
}

// Resolve returns c with every zero field replaced by the value of its
// preset, and validates the result.
func (c Config) Resolve() (Config, error) {
	name := c.Preset
	if name == "" {
		name = DefaultPreset
	}
	base, presetErr := Preset(name)
	if presetErr != nil {
		// Still check the explicit fields, against the default preset, so
		// that Validate reports every problem at once.
		base, _ = Preset(DefaultPreset)
	}
	fill := func(dst *int, v int) {
		if *dst == 0 {
			*dst = v
		}
	}
	r := c
	r.Preset = name
	fill(&r.InputDim, base.InputDim)
	fill(&r.VocabSize, base.VocabSize)
	fill(&r.SubsamplingDim, base.SubsamplingDim)
	fill(&r.DModel, base.DModel)
	fill(&r.NumLayers, base.NumLayers)
	fill(&r.NumHeads, base.NumHeads)
	fill(&r.FFNDim, base.FFNDim)
	fill(&r.ConvKernel, base.ConvKernel)
	if r.Dropout == nil {
		r.Dropout = base.Dropout
	} else {
		r.Dropout = ptr(*r.Dropout)
	}
	if r.LayerNormEpsilon == 0 {
		r.LayerNormEpsilon = base.LayerNormEpsilon
	}
	if err := errors.Join(presetErr, r.validateResolved()); err != nil {
		return Config{}, err
	}
	return r, nil
}

// Validate reports every problem with c (after filling zero fields from its
// preset) at once, joined with errors.Join; nil means the model can be built.
func (c Config) Validate() error {
	_, err := c.Resolve()
	return err
}

func (c Config) validateResolved() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("model: "+format, args...)) }
	positive := func(name string, v int) {
		if v <= 0 {
			bad("%s must be positive, got %d", name, v)
		}
	}
	positive("input_dim", c.InputDim)
	positive("subsampling_dim", c.SubsamplingDim)
	positive("d_model", c.DModel)
	positive("num_layers", c.NumLayers)
	positive("num_heads", c.NumHeads)
	positive("ffn_dim", c.FFNDim)
	if c.VocabSize < 2 {
		bad("vocab_size must be at least 2 (the CTC blank and one symbol), got %d", c.VocabSize)
	}
	if c.NumHeads > 0 && c.DModel > 0 {
		if c.DModel%c.NumHeads != 0 {
			bad("d_model %d is not divisible by num_heads %d", c.DModel, c.NumHeads)
		} else if (c.DModel/c.NumHeads)%2 != 0 {
			bad("head width d_model/num_heads = %d must be even (rotary position embeddings rotate pairs)", c.DModel/c.NumHeads)
		}
	}
	if c.ConvKernel < 1 || c.ConvKernel%2 == 0 {
		bad("conv_kernel must be a positive odd number, got %d", c.ConvKernel)
	}
	if d := *c.Dropout; !(d >= 0 && d < 1) {
		bad("dropout must be in [0, 1), got %g", d)
	}
	if e := c.LayerNormEpsilon; !(e > 0 && e < 1) {
		bad("layer_norm_epsilon must be in (0, 1), got %g", e)
	}
	return errors.Join(errs...)
}

// NumParameters returns the number of trainable weights of the model that c
// describes (after filling zero fields from its preset), or 0 when c is
// invalid. Optimizer state is not counted.
func (c Config) NumParameters() int {
	r, err := c.Resolve()
	if err != nil {
		return 0
	}
	return r.numParameters()
}

func (c Config) numParameters() int {
	dense := func(in, out int) int { return in*out + out }
	norm := func(d int) int { return 2 * d } // gain and offset
	I, S, D, F, K, V := c.InputDim, c.SubsamplingDim, c.DModel, c.FFNDim, c.ConvKernel, c.VocabSize

	subsampling := dense(2*I, S) + dense(2*S, D)
	ffn := norm(D) + dense(D, F) + dense(F, D)
	attention := norm(D) + dense(D, 3*D) + dense(D, D) // queries, keys, values; output
	conv := norm(D) + dense(D, 2*D) +                  // GLU value and gate
		K*D + D + // depthwise kernel and bias
		norm(D) + dense(D, D)
	block := 2*ffn + attention + conv + norm(D)
	return subsampling + c.NumLayers*block + dense(D, V)
}

// OutputLength returns the number of output frames the model produces for
// an input of the given number of frames: ceil(frames/4), and 0 for frames <= 0.
func OutputLength(frames int) int {
	if frames <= 0 {
		return 0
	}
	return (frames + SubsamplingFactor - 1) / SubsamplingFactor
}

// FLOPs returns the floating-point operations (two per multiply-add) of the
// matrix products and depthwise convolutions of one forward pass over one
// utterance of the given number of input frames. Element-wise operations
// (activations, normalisations, softmax) are not counted, so FLOPs divided by
// a backend's matrix-multiplication speed is a lower bound on the time of a
// forward pass. It returns 0 when c is invalid or frames <= 0.
func (c Config) FLOPs(frames int) int64 {
	r, err := c.Resolve()
	if err != nil || frames <= 0 {
		return 0
	}
	T := int64(OutputLength(frames))
	I, S, D, F := int64(r.InputDim), int64(r.SubsamplingDim), int64(r.DModel), int64(r.FFNDim)
	K, V, H := int64(r.ConvKernel), int64(r.VocabSize), int64(r.NumHeads)
	headDim := D / H
	matmul := func(rows, in, out int64) int64 { return 2 * rows * in * out }

	total := matmul(2*T, 2*I, S) + matmul(T, 2*S, D)  // subsampling
	perLayer := 2*(matmul(T, D, F)+matmul(T, F, D)) + // two feed-forward modules
		4*matmul(T, D, D) + // query, key, value, output projections
		2*2*H*T*T*headDim + // attention logits and weighted values
		3*matmul(T, D, D) + // GLU value and gate, pointwise output
		2*T*D*K // depthwise convolution
	total += int64(r.NumLayers) * perLayer
	total += matmul(T, D, V) // output layer
	return total
}
