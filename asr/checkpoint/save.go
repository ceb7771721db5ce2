package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/internal/atomicfile"
	"github.com/asrkit/asrkit/internal/tensorfile"
)

// testHook is called at the instants of a save or removal that a crash
// test stops a process at ("weights", "state", "manifest": after writing
// that file into the temporary folder; "swap": everything written and
// synced, just before the rename into place; "prune": a removed
// checkpoint renamed aside, not yet deleted). It does nothing outside
// tests.
var testHook = func(stage string) {}

// Save writes a checkpoint of runDir for m.Step atomically: the files go
// to a temporary folder inside the checkpoints folder, are synced to disk,
// and the folder is renamed to its final name ([StepDir]), so a crash (even
// kill -9) at any instant leaves either the new checkpoint complete or no
// trace of it beside the previous ones. An existing checkpoint of the same
// step is replaced.
//
// weights are the model variables and state the rest of the training state
// (optimizer moments, random-number state), keyed by full variable path
// (see [ModelVariables]). m.Kind is set to "checkpoint", m.Files and m.Time
// are filled in; m must otherwise be complete (see [Manifest.Validate]).
func Save(runDir string, m *Manifest, weights, state map[string]*tensors.Tensor) (*Checkpoint, error) {
	if m.Training == nil {
		return nil, errors.New("saving a checkpoint: the manifest has no training state")
	}
	dir := filepath.Join(runDir, CheckpointsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	removeLeftovers(dir)
	mm := *m
	mm.Kind = KindCheckpoint
	final := StepDir(runDir, m.Step)
	if err := writeDir(final, &mm, weights, state, tensorfile.Options{}, nil); err != nil {
		return nil, err
	}
	return &Checkpoint{Dir: final, Manifest: &mm}, nil
}

// namedFile is a file other than the manifest and tensor files that
// writeDir puts into a directory.
type namedFile struct {
	name string
	data []byte
}

// writeDir writes a manifest and its tensor files (and extra files) into
// the folder final atomically, replacing what is there.
func writeDir(final string, m *Manifest, weights, state map[string]*tensors.Tensor, opts tensorfile.Options, extra []namedFile) error {
	m.FormatVersion = FormatVersion
	m.Time = time.Now().UTC().Truncate(time.Millisecond)
	m.Files = nil
	dirOpts := atomicfile.DirOptions{Replace: true, BeforeSwap: func() { testHook("swap") }}
	return atomicfile.WriteDir(final, dirOpts, func(tmp string) error {
		files := []struct {
			name string
			vals map[string]*tensors.Tensor
		}{{WeightsFile, weights}, {StateFile, state}}
		for _, f := range files {
			if f.vals == nil {
				continue
			}
			size, err := writeTensors(filepath.Join(tmp, f.name), f.vals, opts)
			if err != nil {
				return err
			}
			m.Files = append(m.Files, FileInfo{Name: f.name, Size: size})
			testHook(strings.TrimSuffix(f.name, filepath.Ext(f.name)))
		}
		for _, f := range extra {
			if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
				return err
			}
			m.Files = append(m.Files, FileInfo{Name: f.name, Size: int64(len(f.data))})
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("refusing to save an invalid manifest: %w", err)
		}
		b, err := m.marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, ManifestFile), b, 0o644); err != nil {
			return err
		}
		testHook("manifest")
		return nil
	})
}

// writeTensors writes vals, sorted by name, to a tensor file and returns
// its size. (The caller syncs it.)
func writeTensors(path string, vals map[string]*tensors.Tensor, opts tensorfile.Options) (int64, error) {
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	slices.Sort(names)
	ts := make([]tensorfile.Tensor, 0, len(names))
	for _, n := range names {
		t, err := toTensorfile(n, vals[n])
		if err != nil {
			return 0, err
		}
		ts = append(ts, t)
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := tensorfile.Write(f, ts, opts); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// toTensorfile copies a GoMLX tensor (fetching it from the device if
// needed) into a tensor-file entry.
func toTensorfile(name string, t *tensors.Tensor) (tensorfile.Tensor, error) {
	if t == nil {
		return tensorfile.Tensor{}, fmt.Errorf("tensor %q has no value", name)
	}
	out := tensorfile.Tensor{
		Name:  name,
		DType: strings.ToLower(t.DType().String()),
		Shape: slices.Clone(t.Shape().Dimensions),
	}
	if out.Shape == nil {
		out.Shape = []int{}
	}
	if t.Shape().Size() == 0 {
		return out, nil
	}
	err := t.ConstBytes(func(b []byte) { out.Data = slices.Clone(b) })
	if err != nil {
		return out, fmt.Errorf("tensor %q: %w", name, err)
	}
	return out, nil
}
