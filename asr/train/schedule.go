package train

import "math"

// LearningRateAt returns the learning rate of optimizer step step (counted
// from 1) of a run of total steps, for settings with defaults filled in
// (see Config.WithDefaults). The schedule is computed in Go and fed to the
// training graph at every step, so it never depends on graph state:
//
//   - warm-up: linear, from LearningRate/WarmupSteps at step 1 to
//     LearningRate at step WarmupSteps (unlike GoMLX's cosine schedule,
//     step 1 never has a learning rate of 0); nil WarmupSteps means
//     DefaultWarmup(total);
//   - cosine: then from LearningRate down to MinLearningRate at step total,
//     along half a cosine;
//   - noam: then LearningRate·sqrt(WarmupSteps/step);
//   - constant: then LearningRate.
func (s Settings) LearningRateAt(step, total int64) float64 {
	lr := s.LearningRate
	w := DefaultWarmup(total)
	if s.WarmupSteps != nil {
		w = *s.WarmupSteps
	}
	warm := max(w, 1)
	if step < 1 {
		step = 1
	}
	if step <= warm {
		return lr * float64(step) / float64(warm)
	}
	switch s.Schedule {
	case ScheduleNoam:
		return lr * math.Sqrt(float64(warm)/float64(step))
	case ScheduleConstant:
		return lr
	default:
		lo := 0.0
		if s.MinLearningRate != nil {
			lo = *s.MinLearningRate
		}
		span := total - warm
		if span <= 0 {
			return lr
		}
		p := min(1, float64(step-warm)/float64(span))
		return lo + (lr-lo)*0.5*(1+math.Cos(math.Pi*p))
	}
}
