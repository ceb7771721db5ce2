// Package model is asrkit's acoustic model: a character CTC Conformer
// written as GoMLX graph functions.
//
// The network maps normalised log-mel features [B, T, 80] and their lengths
// to per-frame log-probabilities over the vocabulary [B, ceil(T/4), V]:
//
//   - subsampling x4: two stages that stack pairs of frames and apply
//     Dense + ReLU;
//   - a Conformer encoder (Gulati et al. 2020): each block is ½ feed-forward,
//     multi-head self-attention with rotary position embeddings, a
//     convolution module (pointwise GLU, depthwise convolution over time,
//     LayerNorm, Swish, pointwise), ½ feed-forward and LayerNorm, each branch
//     pre-normalised and residual;
//   - Dense to the vocabulary and log-softmax.
//
// # Padding
//
// Padding never changes the result: frames past each utterance's length are
// zeroed before every operation that mixes frames (subsampling, depthwise
// convolution), padded keys are masked out of attention, and every
// normalisation is per frame (LayerNorm, never statistics over the batch),
// so an utterance gives the same log-probs alone and inside a padded batch
// (to float rounding; the tests require 1e-4).
//
// # Choices made for the pure-Go backend
//
// Every op used also exists in XLA, so the same graph runs on a GPU. The
// choices below keep it fast on GoMLX's pure-Go backend, where matrix
// products run at about 10 GFLOP/s on two cores and a convolution at about
// 0.5 GFLOP/s:
//
//   - subsampling by frame stacking and Dense instead of strided convolutions;
//   - the depthwise convolution as a sum of shifted slices (the same
//     arithmetic as a grouped convolution, without ConvGeneral or its
//     gradient);
//   - one wide projection for queries, keys and values, and one for the GLU's
//     value and gate, so that each is one large matrix product that uses
//     every core;
//   - rotary position embeddings (Su et al. 2021): relative positions from a
//     few element-wise ops, instead of Transformer-XL relative attention's
//     extra projection and shifts;
//   - LayerNorm instead of BatchNorm in the convolution module.
//
// # Configuration
//
// [Config] holds the sizes; its zero fields take the values of a named
// [Preset]: "tiny" (469k parameters, trained on CPU), "small" (NeMo
// Conformer-CTC small's shape, 11.7M) and "medium" (NeMo's medium, 27.6M).
// [Config.NumParameters] counts the weights from the configuration alone and
// [Config.FLOPs] the arithmetic of a forward pass; [Summary] builds the graph
// and reports the shape and weights of each block; [CountParameters] counts
// the model weights held in a context.
//
// # Graph
//
// [LogProbs] builds the network on a *context.Context; its variables live
// under the scope [Scope]. [OutputLength] gives the number of output frames
// for a number of input frames.
//
// # Precision
//
// [LogProbsWith] takes [Options]: dropout, and the compute [Precision].
// [PrecisionBFloat16] runs the matrix products and the activations
// between them in bfloat16 (for GPUs), like automatic mixed precision: the
// variables stay float32 (the optimizer updates float32 master weights and
// checkpoints hold them), each is rounded where a product reads it, and the
// residual stream, LayerNorm, rotary embeddings, the attention softmax,
// the depthwise convolution, the output layer and the log-softmax stay
// float32, as does every sum over frames or batch in the gradients. The
// log-probabilities are float32 in every precision.
package model
