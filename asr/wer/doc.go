// Package wer computes word and character error rates with their hit,
// substitution, deletion and insertion counts.
//
// [Words] and [Chars] align a reference and a hypothesis with unit costs
// (Levenshtein distance, as jiwer, Kaldi's compute-wer and most toolkits
// do) and, among alignments of equal cost, take one with the most hits.
// [Align] with [SCLITECosts] reproduces NIST sclite instead: substitutions
// cost 4, insertions and deletions 3, so sclite may count a deletion plus an
// insertion where unit costs count two substitutions. The error count
// S+D+I can differ between the two; the tests compare each with its
// reference (jiwer's asserted values, and the sclite binary on generated
// pairs).
//
// Definitions, with N = H+S+D reference tokens and M = H+S+I hypothesis
// tokens:
//
//	WER or CER  (S+D+I)/N   (can exceed 1; with N = 0 it is I, as in jiwer)
//	MER         (S+D+I)/(H+S+D+I)
//	WIP         (H/N)·(H/M)
//	WIL         1 - WIP
//
// Rates over a corpus come from counts summed over its utterances
// ([Counts.Add], [Corpus]), never from averaged per-utterance rates.
//
// The package compares tokens exactly: normalise both sides first (the
// asr/text package's Normalize) so that case and punctuation do not count.
// Characters for CER are Unicode code points of the text with white space
// runs collapsed to one space and both ends trimmed; the spaces between words
// count as characters.
package wer
