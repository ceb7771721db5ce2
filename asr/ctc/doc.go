// Package ctc implements the connectionist temporal classification (CTC)
// loss of Graves et al. (2006) as a GoMLX graph function, and a float64
// reference implementation used to test it.
//
// # The loss
//
// [Loss] takes unnormalised scores (logits) [B, T, V], per-example input
// lengths [B], padded label sequences [B, L] and label lengths [B], and returns
// the negative log-likelihood of each label sequence, [B]. It applies
// log-softmax itself (as TensorFlow's ctc_loss and warp-ctc do); log-softmax is
// idempotent, so passing log-probabilities gives the same loss and gradient.
// The conventions are those of testdata/reference/ctc_reference.json: no
// length normalisation, no batch reduction, repeated labels need a blank
// between them, the blank is class 0 unless [Options].Blank says otherwise.
//
// # How it is computed
//
// GoMLX has no loops, so the log-space forward (alpha) and backward (beta)
// recursions are unrolled over the T frames of the graph's shape: about 20
// small ops per frame for each direction. The extended label sequence (blank,
// l1, blank, l2, ..., blank) of S = 2L+1 states selects emission
// log-probabilities with a one-hot matrix product, and every transition mask
// is computed once from the labels. An example stops advancing after its own
// length (its alpha is frozen with a Where), so padded frames never count.
//
// The gradient does not back-propagate through the unrolled recursions:
// alpha and beta give the state occupancies (Graves eq. 14-16) directly, and
// the loss is assembled so that its gradient with respect to the emissions
// is minus the occupancy. The backward graph is therefore a handful of ops
// whatever T is, and the gradient with respect to the logits is the familiar
// softmax minus occupancy.
//
// # Robustness
//
//   - Logits of frames at or past an example's length are replaced by zeros
//     before anything reads them: they may hold anything, even NaN or Inf,
//     without changing the loss or producing a non-zero gradient there.
//   - The log-space recursion uses a large negative number instead of -Inf,
//     so no Inf-Inf or 0*Inf ever produces NaN.
//   - An impossible example, with fewer frames than labels plus repeated
//     labels, gets a zero gradient and the loss [ImpossibleLoss], or 0 with
//     [Options].ZeroInfinity; it never yields NaN or Inf.
//   - Label values are clamped into [0, V-1]; labels equal to the blank are
//     not rejected in the graph (callers validate labels against the
//     vocabulary when building batches).
//
// The computation runs in float32 (float64 when the logits are float64) even
// for half-precision logits.
package ctc
