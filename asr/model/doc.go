// Package model is asrkit's acoustic model: a character CTC Conformer
// written as GoMLX graph functions.
//
// The network maps normalised log-mel features [B, T, 80] and their lengths
// to per-frame log-probabilities over the vocabulary [B, T/4, V]:
//
//   - subsampling x4: two stages that stack pairs of frames and apply
//     Dense + ReLU (faster than strided convolutions on the pure-Go backend);
//   - a Conformer encoder: each block is ½ feed-forward, multi-head
//     self-attention with rotary position embeddings, a convolution module
//     (pointwise GLU, depthwise convolution over time, LayerNorm, Swish,
//     pointwise), ½ feed-forward and LayerNorm;
//   - Dense to the vocabulary and log-softmax.
//
// Padding never changes the result: frames past each utterance's length are
// zeroed before every operation that mixes frames (subsampling, depthwise
// convolution), padded keys are masked out of attention, and every
// normalisation is per frame (LayerNorm), so an utterance gives the same
// log-probs alone and inside a padded batch.
//
// # Configuration
//
// [Config] holds the sizes; its zero fields take the values of a named
// [Preset]: "tiny" (under 1M parameters, trained on CPU), "small" (NeMo
// Conformer-CTC small's shape) and "medium". [Config.NumParameters] counts
// the weights from the configuration alone; [Summary] builds the graph and
// reports the shape after each block.
//
// # Graph
//
// [LogProbs] builds the network on a *context.Context; its variables live
// under the scope [Scope]. [OutputLength] gives the number of output frames
// for a number of input frames.
package model
