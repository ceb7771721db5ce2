package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/internal/tensorfile"
)

// Errors about checkpoints and model directories. They are wrapped: test
// with errors.Is.
var (
	// ErrNotModel: the path is neither a model directory, nor a checkpoint,
	// nor a run directory.
	ErrNotModel = errors.New("not a model directory, checkpoint or run directory")
	// ErrNoCheckpoint: a run directory holds no usable checkpoint.
	ErrNoCheckpoint = errors.New("no usable checkpoint")
	// ErrCorrupt: a checkpoint or model directory is damaged
	// (unreadable manifest, missing, truncated or corrupted tensor file).
	ErrCorrupt = errors.New("corrupt checkpoint")
)

// Checkpoint is a saved model: a checkpoint inside a run directory or an
// exported model directory. Open one with [OpenModel], [Open],
// [Latest] or [Best], then load its weights into a
// GoMLX context with [Checkpoint.NewLoader].
//
// A Checkpoint opened with [OpenFS] reads its files from that file
// system; one made as a literal (Dir and Manifest) reads them from the
// operating system's folder Dir.
type Checkpoint struct {
	// Dir is the checkpoint's (or model directory's) folder: a path of the
	// operating system, or, for [OpenFS], the path inside its file
	// system.
	Dir string
	// Manifest describes the model and, for a checkpoint, the training state.
	Manifest *Manifest

	fsys fs.FS // the directory's files; nil: the operating system's folder Dir
}

// files returns the file system holding the directory's files at its root.
func (c *Checkpoint) files() fs.FS {
	if c.fsys != nil {
		return c.fsys
	}
	return osDirFS(c.Dir)
}

// osDirFS is os.DirFS for a checkpoint folder ("" is the current folder,
// which os.DirFS refuses).
func osDirFS(dir string) fs.FS {
	if dir == "" {
		dir = "."
	}
	return os.DirFS(dir)
}

// Open opens the checkpoint or model directory dir, named
// explicitly: it reads the manifest and verifies every tensor file (sizes
// and checksums). A damaged directory gives an error wrapping
// [ErrCorrupt] that says what is wrong.
func Open(dir string) (*Checkpoint, error) {
	return openDir(nil, dir)
}

// OpenFS opens a model directory or checkpoint held in a file system
// (an embed.FS, such as the bundled model's, a zip archive, os.DirFS) with
// the same checks as [Open]: the manifest is read and validated
// and every tensor file is verified (size recorded in the manifest,
// checksums). dir is the directory's path inside fsys in [fs.ValidPath]
// form ("." for the root). Without a manifest the error wraps
// [ErrNotModel]; a damaged directory gives one wrapping
// [ErrCorrupt]. The returned Checkpoint reads its weights from
// fsys, and its Dir is dir.
func OpenFS(fsys fs.FS, dir string) (*Checkpoint, error) {
	if fsys == nil {
		return nil, errors.New("OpenFS: nil file system")
	}
	if !fs.ValidPath(dir) {
		return nil, fmt.Errorf("OpenFS: %q is not a valid path inside a file system (slash-separated, unrooted, no . or .. elements; \".\" for the root)", dir)
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	return openDir(sub, dir)
}

// openDir reads the manifest of a checkpoint or model directory (from fsys,
// or from the operating system's folder dir when fsys is nil) and verifies
// its tensor files.
func openDir(fsys fs.FS, dir string) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, fsys: fsys}
	m, err := readManifest(c.files(), dir)
	if err != nil {
		return nil, err
	}
	c.Manifest = m
	if err := c.Verify(); err != nil {
		return nil, err
	}
	return c, nil
}

// Verify checks that every file listed in the manifest is present and has
// the recorded size, and that every tensor file passes its checksums.
func (c *Checkpoint) Verify() error {
	for _, f := range c.Manifest.Files {
		var err error
		if isTensorFile(f.Name) {
			_, err = c.readFile(f.Name)
		} else {
			// Other files (the language model) are only sized here: they
			// are read once, by whoever uses them, and gzip checks them then.
			_, err = c.statFile(f.Name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// statFile checks that a file the manifest lists is present with the
// recorded size, and returns its entry.
func (c *Checkpoint) statFile(name string) (*FileInfo, error) {
	var want *FileInfo
	for i := range c.Manifest.Files {
		if c.Manifest.Files[i].Name == name {
			want = &c.Manifest.Files[i]
		}
	}
	if want == nil {
		return nil, fmt.Errorf("%s: the manifest lists no file %s", c.Dir, name)
	}
	st, err := fs.Stat(c.files(), name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, c.Dir, err)
	}
	if st.Size() != want.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the manifest says %d (truncated or replaced)", ErrCorrupt, filepath.Join(c.Dir, name), st.Size(), want.Size)
	}
	return want, nil
}

// ReadFile returns the contents of a file the manifest lists (such as the
// language model, [LMFile]) after checking its size against the manifest.
func (c *Checkpoint) ReadFile(name string) ([]byte, error) {
	// The size first, so that a replaced file of any size is not read.
	want, err := c.statFile(name)
	if err != nil {
		return nil, err
	}
	fsys, path := c.files(), filepath.Join(c.Dir, name)
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, c.Dir, err)
	}
	if int64(len(data)) != want.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the manifest says %d (changed while being read)", ErrCorrupt, path, len(data), want.Size)
	}
	return data, nil
}

// readFile reads and verifies one tensor file of the checkpoint.
func (c *Checkpoint) readFile(name string) ([]tensorfile.Tensor, error) {
	data, err := c.ReadFile(name)
	if err != nil {
		return nil, err
	}
	ts, err := tensorfile.Read(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, filepath.Join(c.Dir, name), err)
	}
	return ts, nil
}

// Tensors reads the model weights (and, when withState is true and the
// checkpoint has them, the optimizer and random-number state), keyed by
// full variable path ("/model/output/weights").
func (c *Checkpoint) Tensors(withState bool) (map[string]*tensors.Tensor, error) {
	var names []string
	for _, f := range c.Manifest.Files {
		if isWeightsFile(f.Name) || withState && isStateFile(f.Name) {
			names = append(names, f.Name)
		}
	}
	out := map[string]*tensors.Tensor{}
	for _, n := range names {
		ts, err := c.readFile(n)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			v, err := fromTensorfile(t)
			if err != nil {
				return nil, fmt.Errorf("%w: %s/%s: %w", ErrCorrupt, c.Dir, n, err)
			}
			if _, dup := out[t.Name]; dup {
				return nil, fmt.Errorf("%w: %s: tensor %q stored twice", ErrCorrupt, c.Dir, t.Name)
			}
			out[t.Name] = v
		}
	}
	return out, nil
}

// HasState reports whether the checkpoint holds optimizer state (training
// checkpoints do, model directories do not).
func (c *Checkpoint) HasState() bool {
	for _, f := range c.Manifest.Files {
		if isStateFile(f.Name) {
			return true
		}
	}
	return false
}

// OpenModel opens what a user names as a model: a model directory (from
// asr export), a single checkpoint directory, or a run directory, in which
// case its best checkpoint ([Best]) is used. The directory is
// verified; a damaged one named explicitly is an error wrapping
// [ErrCorrupt]. Damaged checkpoints of a run directory are skipped with a
// warning on log (nil: silently).
func OpenModel(path string, log *slog.Logger) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file; give the directory that holds %s", ErrNotModel, path, ManifestFile)
	}
	if _, err := os.Stat(filepath.Join(path, ManifestFile)); err == nil {
		return Open(path)
	}
	if IsRunDir(path) {
		return Best(path, log)
	}
	return nil, fmt.Errorf("%w: %s has neither %s (a model directory or checkpoint) nor %s/ (a run directory)", ErrNotModel, path, ManifestFile, CheckpointsDir)
}

// fromTensorfile makes a GoMLX tensor of a tensor-file entry.
func fromTensorfile(t tensorfile.Tensor) (*tensors.Tensor, error) {
	dt, err := dtypes.DTypeString(t.DType)
	if err != nil || dt == dtypes.InvalidDType {
		return nil, fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	v := tensors.FromShape(shapes.Make(dt, t.Shape...))
	if int(v.Shape().Memory()) != len(t.Data) {
		return nil, fmt.Errorf("tensor %q: %d bytes for %s", t.Name, len(t.Data), v.Shape())
	}
	if len(t.Data) == 0 {
		return v, nil
	}
	if err := v.MutableBytes(func(b []byte) { copy(b, t.Data) }); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return v, nil
}
