package asr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/asr/bundled"
	"github.com/asrkit/asrkit/internal/tensorfile"
)

// ErrNoBundledModel is returned by [LoadDefault] when this build of asrkit
// carries no bundled model (asr/bundled/model holds no manifest.json).
// Give a model directory to [Load] (or --model to the CLI) instead.
var ErrNoBundledModel = errors.New("asr: this build has no bundled model; give a model directory (asr.Load, --model)")

// LoadDefault loads the model built into asrkit (package asr/bundled): a
// small model that works with no download and no flags. See the README
// for what it was trained on and how accurate it is.
func LoadDefault(opts ...Option) (*Recognizer, error) {
	m, loader, err := openFS(bundled.FS())
	if err != nil {
		return nil, err
	}
	return newRecognizer("", m, loader, opts)
}

// openFS reads a model directory held in a file system (the embedded one):
// the manifest and the verified weights.
func openFS(fsys fs.FS) (*Manifest, *Loader, error) {
	raw, err := fs.ReadFile(fsys, ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, ErrNoBundledModel
	}
	if err != nil {
		return nil, nil, fmt.Errorf("asr: bundled model: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: bundled %s: %v", ErrCorruptCheckpoint, ManifestFile, err)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: bundled %s: %w", ErrCorruptCheckpoint, ManifestFile, err)
	}
	var size int64 = -1
	for _, f := range m.Files {
		if f.Name == WeightsFile {
			size = f.Size
		}
	}
	data, err := fs.ReadFile(fsys, WeightsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bundled model: %w", ErrCorruptCheckpoint, err)
	}
	if int64(len(data)) != size {
		return nil, nil, fmt.Errorf("%w: bundled %s is %d bytes, the manifest says %d", ErrCorruptCheckpoint, WeightsFile, len(data), size)
	}
	ts, err := tensorfile.Read(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bundled %s: %w", ErrCorruptCheckpoint, WeightsFile, err)
	}
	values := make(map[string]*tensors.Tensor, len(ts))
	for _, t := range ts {
		v, err := fromTensorfile(t)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: bundled %s: %w", ErrCorruptCheckpoint, WeightsFile, err)
		}
		values[t.Name] = v
	}
	return &m, NewLoader(values), nil
}
