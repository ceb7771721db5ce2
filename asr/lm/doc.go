// Package lm holds word n-gram language models: reading and writing the
// ARPA format, scoring with backoff, and estimating interpolated modified
// Kneser-Ney models of any order. It does not depend on GoMLX.
//
// # Scoring
//
// [Model.Score] returns natural-log probabilities (ARPA files store log10;
// ln p = [Ln10] · log10 p) and carries the context in a small comparable
// [State], so that a decoder can keep one per hypothesis:
//
//	s := m.BeginState()            // after <s>
//	lp, s := m.Score(s, "the")     // ln p(the | <s>)
//	end, _ := m.Score(s, lm.EOS)   // ln p(</s> | <s> the)
//
// An n-gram missing from the model backs off: p(w | h) = bo(h) · p(w | h')
// where h' drops the oldest word of h. Words outside the vocabulary are
// scored as <unk>; a model without <unk> gives them log10 probability
// [NoUnkLog10Prob] (-100, as KenLM does) and resets the context.
//
// # Estimation
//
// [Estimator] follows Chen & Goodman (1998) and KenLM's lmplz:
//
//   - Each sentence is <s> w1 ... wk </s>. The highest order uses raw
//     counts; a lower-order n-gram uses its continuation count (the number
//     of distinct words seen before it), except n-grams starting with <s>,
//     which keep raw counts because nothing can precede them.
//   - Three discounts per order from the count-of-counts tk of those
//     adjusted counts: Y = t1/(t1+2t2), Dk = k - (k+1)·Y·t(k+1)/tk for
//     k = 1, 2, 3+ (equation 26). Too little text to estimate them is an
//     error wrapping [ErrDiscounts] unless [BuildOptions.DiscountFallback]
//     is set ([FallbackDiscounts] = 0.5, 1, 1.5, as KenLM's
//     --discount_fallback).
//   - Interpolation: p(w | h) = (a(hw) - D(a(hw))) / Σ_x a(hx) + γ(h) ·
//     p(w | h'), with γ(h) = (D1·n1(h•) + D2·n2(h•) + D3·n3+(h•)) / Σ_x
//     a(hx), down to the uniform distribution over the vocabulary (every
//     word but <s>, including </s> and <unk>). The ARPA file stores the
//     interpolated p as the n-gram probability and γ as the backoff weight,
//     so backoff scoring reproduces the interpolated model exactly.
//   - The vocabulary is every word of the text plus <s>, </s> and <unk>.
//     <unk> has no count: its probability γ(ε)/|V| is what an unseen word
//     gets. Text is expected to be normalised already (asr/text.Normalize),
//     one sentence per line.
//
// For every context h, Σ p(w | h) over the vocabulary is 1 (tested to
// 1e-5). The tests check values worked out by hand, the discounts against
// IRSTLM's, and the written ARPA files against CMU Sphinx's sphinx_lm_eval.
package lm
