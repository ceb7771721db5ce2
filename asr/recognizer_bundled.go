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
var ErrNoBundledModel = errors.New("this build has no bundled model; give a model directory (asr.Load, --model)")

// LoadDefault loads the model built into asrkit (package asr/bundled): a
// small model that works with no download and no flags. See the README
// for what it was trained on and how accurate it is. opts may be nil (see
// [Options]). Errors are *[Error]s of Op "load bundled model".
func LoadDefault(opts *Options) (*Recognizer, error) {
	r, err := loadDefault(opts)
	return r, wrapErr("load bundled model", "", err)
}

func loadDefault(opts *Options) (*Recognizer, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
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
		return nil, nil, err
	}
	loader, err := c.NewLoader(false)
	if err != nil {
		return nil, nil, err
	}
	return c, loader, nil
}
