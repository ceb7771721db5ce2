// Package decode turns a CTC model's per-frame log-probabilities into text:
// [Greedy] (best path) and [Beam] (prefix beam search, optionally fused with
// a word n-gram language model from asr/lm). Both return a [Result] with
// the text, the words with start and end times and confidences, and
// scores. The package does not depend on GoMLX.
//
// # Input
//
// [LogProbs] holds one utterance: natural-log posteriors, row-major
// [frames][classes], blank at class 0, classes matching the
// text.Vocabulary the model was trained with. Invalid input (shape
// mismatch, NaN, +Inf or positive values) is an error wrapping [ErrInput].
//
// # Times and confidences
//
// A word starts at the first frame aligned to its first character and ends
// at the end of the last frame aligned to its last character (frame index ×
// FrameDuration, 40 ms at the defaults). Greedy takes the alignment from its
// best path; Beam from the Viterbi (most probable) alignment of the text it
// chose, so both agree when they choose the same text. A character's
// confidence is its highest posterior over the frames aligned to it, and a
// word's Confidence is the mean over its characters. A CTC model marks
// each character on one or two frames, so times locate words to within a
// frame or two, not their acoustic extent.
//
// # Scores
//
// Result.LogProb is acoustic: the best path's log-probability for Greedy,
// the text's log-probability summed over the alignments the search kept
// for Beam (exact without pruning; [LogLikelihood] computes the exact value
// for any text). Result.Score adds LMWeight·LMLogProb, WordBonus per word
// and the penalties of words outside the language model's vocabulary.
//
// # Search
//
// Beam is prefix beam search (Hannun et al., 2014) over a prefix tree, with
// probabilities in linear scale renormalised every frame, two pruning rules
// (TokenMinLogProb per character and BeamPruneLogProb against the frame's
// best prefix, pyctcdecode's defaults) and the Width best prefixes kept.
// With a language model, a completed word adds LMWeight·ln P_LM(word |
// history) and WordBonus to the prefix's rank; the last word and </s> are
// scored when the utterance ends. A partial word is not scored by the LM,
// but once no word of the LM's vocabulary begins with it, it costs
// UnknownWordPenalty (as does a completed unknown word) and each further
// character UnknownCharPenalty, so that the search does not escape the LM
// by gluing words together.
package decode
