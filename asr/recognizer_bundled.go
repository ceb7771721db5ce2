package asr

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/asrkit/asrkit/asr/bundled"
	"github.com/asrkit/asrkit/asr/checkpoint"
)

// ErrNoBundledModel is returned by [LoadDefault] when this build of asrkit
// carries no bundled model (asr/bundled/model holds no manifest.json).
// Give a model directory to [Load] (or --model to the CLI) instead.
var ErrNoBundledModel = errors.New("asr: this build has no bundled model; give a model directory (asr.Load, --model)")

// LoadDefault loads the model built into asrkit (package asr/bundled): a
// small model that works with no download and no flags. See the README
// for what it was trained on and how accurate it is.
func LoadDefault(opts ...Option) (*Recognizer, error) {
	c, loader, err := openBundled(bundled.FS())
	if err != nil {
		return nil, err
	}
	return newRecognizer("", c, loader, opts)
}

// openBundled opens the model directory at the root of fsys (the embedded
// one) with [checkpoint.OpenFS], and reads its weights.
func openBundled(fsys fs.FS) (*checkpoint.Checkpoint, *checkpoint.Loader, error) {
	c, err := checkpoint.OpenFS(fsys, ".")
	if errors.Is(err, ErrNotModel) {
		return nil, nil, ErrNoBundledModel
	}
	if err != nil {
		return nil, nil, fmt.Errorf("asr: bundled model: %w", err)
	}
	loader, err := c.NewLoader(false)
	if err != nil {
		return nil, nil, fmt.Errorf("asr: bundled model: %w", err)
	}
	return c, loader, nil
}
