package asr

import (
	"testing"

	"github.com/asrkit/asrkit/internal/testmodel"
)

// randomModel saves a randomly initialised model of the preset as a
// one-checkpoint run directory and exports it as a model directory (float16
// when half is true), and returns both (see testmodel.Dirs).
func randomModel(t testing.TB, preset string, seed int64, half bool) (runDir, modelDir string) {
	t.Helper()
	return testmodel.Dirs(t, preset, seed, half)
}
