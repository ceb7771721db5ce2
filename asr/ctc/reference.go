package ctc

import (
	"errors"
	"fmt"
	"math"
)

// Reference computes the CTC loss of one example and its gradient with
// respect to the logits, in float64, with the classic forward-backward
// algorithm (Graves et al. 2006, eqs. 6-16) in log space. logits is [T][V]
// (log-softmax is applied, as in [Loss]); labels must not contain blank.
//
// An impossible example (T shorter than the labels plus their repeats) has
// loss +Inf and a zero gradient. It is slow (O(T*L)) and meant for tests and
// for checking other implementations.
func Reference(logits [][]float64, labels []int, blank int) (loss float64, grad [][]float64, err error) {
	frames := len(logits)
	if frames == 0 {
		return 0, nil, errors.New("ctc.Reference: no frames")
	}
	classes := len(logits[0])
	if blank < 0 || blank >= classes {
		return 0, nil, fmt.Errorf("ctc.Reference: blank %d out of range for %d classes", blank, classes)
	}
	for t, row := range logits {
		if len(row) != classes {
			return 0, nil, fmt.Errorf("ctc.Reference: frame %d has %d classes, frame 0 has %d", t, len(row), classes)
		}
	}
	for i, l := range labels {
		if l < 0 || l >= classes || l == blank {
			return 0, nil, fmt.Errorf("ctc.Reference: label %d = %d is out of range or the blank", i, l)
		}
	}

	logProbs := make([][]float64, frames)
	for t, row := range logits {
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(v - m)
		}
		logProbs[t] = make([]float64, classes)
		for k, v := range row {
			logProbs[t][k] = v - m - math.Log(sum)
		}
	}

	ext := make([]int, 2*len(labels)+1)
	for i := range ext {
		ext[i] = blank
		if i%2 == 1 {
			ext[i] = labels[i/2]
		}
	}
	states := len(ext)
	skip := func(s int) bool { return s >= 2 && ext[s] != blank && ext[s] != ext[s-2] } // s-2 -> s

	alpha := logMatrix(frames, states)
	alpha[0][0] = logProbs[0][ext[0]]
	if states > 1 {
		alpha[0][1] = logProbs[0][ext[1]]
	}
	for t := 1; t < frames; t++ {
		for s := range states {
			a := alpha[t-1][s]
			if s >= 1 {
				a = logAdd(a, alpha[t-1][s-1])
			}
			if skip(s) {
				a = logAdd(a, alpha[t-1][s-2])
			}
			alpha[t][s] = a + logProbs[t][ext[s]]
		}
	}
	beta := logMatrix(frames, states) // emission of frame t included, as alpha
	beta[frames-1][states-1] = logProbs[frames-1][ext[states-1]]
	if states > 1 {
		beta[frames-1][states-2] = logProbs[frames-1][ext[states-2]]
	}
	for t := frames - 2; t >= 0; t-- {
		for s := range states {
			b := beta[t+1][s]
			if s+1 < states {
				b = logAdd(b, beta[t+1][s+1])
			}
			if s+2 < states && skip(s+2) {
				b = logAdd(b, beta[t+1][s+2])
			}
			beta[t][s] = b + logProbs[t][ext[s]]
		}
	}
	logLik := alpha[frames-1][states-1]
	if states > 1 {
		logLik = logAdd(logLik, alpha[frames-1][states-2])
	}

	grad = make([][]float64, frames)
	for t := range grad {
		grad[t] = make([]float64, classes)
	}
	if math.IsInf(logLik, -1) {
		return math.Inf(1), grad, nil
	}
	for t := range frames {
		occupancy := make([]float64, classes)
		for s := range states {
			k := ext[s]
			occupancy[k] += math.Exp(alpha[t][s] + beta[t][s] - logProbs[t][k] - logLik)
		}
		for k := range classes {
			grad[t][k] = math.Exp(logProbs[t][k]) - occupancy[k]
		}
	}
	return -logLik, grad, nil
}

func logMatrix(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			m[i][j] = math.Inf(-1)
		}
	}
	return m
}

// logAdd is log(exp(a) + exp(b)), exact when either is -Inf.
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}
