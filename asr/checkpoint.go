package asr

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/internal/tensorfile"
)

// CheckpointsDir is the folder of a run directory that holds its
// checkpoints, one sub-directory per saved step ("step-000001200").
const CheckpointsDir = "checkpoints"

// Errors about checkpoints and model directories. They are wrapped: test
// with errors.Is.
var (
	// ErrNotModel: the path is neither a model directory, nor a checkpoint,
	// nor a run directory.
	ErrNotModel = errors.New("not a model directory, checkpoint or run directory")
	// ErrNoCheckpoint: a run directory holds no usable checkpoint.
	ErrNoCheckpoint = errors.New("no usable checkpoint")
	// ErrCorruptCheckpoint: a checkpoint or model directory is damaged
	// (unreadable manifest, missing, truncated or corrupted tensor file).
	ErrCorruptCheckpoint = errors.New("corrupt checkpoint")
)

// Checkpoint is a saved model: a checkpoint inside a run directory or an
// exported model directory. Open one with [OpenModel], [OpenCheckpoint],
// [LatestCheckpoint] or [BestCheckpoint], then load its weights into a
// GoMLX context with [Checkpoint.NewLoader].
//
// A Checkpoint opened with [OpenModelFS] reads its files from that file
// system; one made as a literal (Dir and Manifest) reads them from the
// operating system's folder Dir.
type Checkpoint struct {
	// Dir is the checkpoint's (or model directory's) folder: a path of the
	// operating system, or, for [OpenModelFS], the path inside its file
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

// CheckpointInfo is one entry of a run directory's checkpoints folder, as
// listed by [ListCheckpoints].
type CheckpointInfo struct {
	// Step is the step in the folder's name.
	Step int64
	// Dir is the checkpoint's folder.
	Dir string
	// Manifest is the parsed manifest, or nil when Err is set.
	Manifest *Manifest
	// Err says why the checkpoint cannot be used (its manifest is missing
	// or invalid), or is nil. Tensor files are not read by ListCheckpoints;
	// use OpenCheckpoint to verify them.
	Err error
}

// stepDirName is the folder name of a checkpoint of step.
func stepDirName(step int64) string { return fmt.Sprintf("step-%09d", step) }

// parseStepDir returns the step of a checkpoint folder name.
func parseStepDir(name string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, "step-")
	if !ok || rest == "" {
		return 0, false
	}
	var step int64
	for _, r := range rest {
		if r < '0' || r > '9' || step > (1<<62)/10 {
			return 0, false
		}
		step = step*10 + int64(r-'0')
	}
	return step, true
}

// OpenCheckpoint opens the checkpoint or model directory dir, named
// explicitly: it reads the manifest and verifies every tensor file (sizes
// and checksums). A damaged directory gives an error wrapping
// [ErrCorruptCheckpoint] that says what is wrong.
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	return openDir(nil, dir)
}

// OpenModelFS opens a model directory or checkpoint held in a file system
// (an embed.FS, such as the bundled model's, a zip archive, os.DirFS) with
// the same checks as [OpenCheckpoint]: the manifest is read and validated
// and every tensor file is verified (size recorded in the manifest,
// checksums). dir is the directory's path inside fsys in [fs.ValidPath]
// form ("." for the root). Without a manifest the error wraps
// [ErrNotModel]; a damaged directory gives one wrapping
// [ErrCorruptCheckpoint]. The returned Checkpoint reads its weights from
// fsys, and its Dir is dir.
func OpenModelFS(fsys fs.FS, dir string) (*Checkpoint, error) {
	if fsys == nil {
		return nil, errors.New("asr: OpenModelFS: nil file system")
	}
	if !fs.ValidPath(dir) {
		return nil, fmt.Errorf("asr: OpenModelFS: %q is not a valid path inside a file system (slash-separated, unrooted, no . or .. elements; \".\" for the root)", dir)
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("asr: %w", err)
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
		if f.Name == WeightsFile || f.Name == StateFile {
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
		return nil, fmt.Errorf("asr: %s has no %s", c.Dir, name)
	}
	st, err := fs.Stat(c.files(), name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptCheckpoint, c.Dir, err)
	}
	if st.Size() != want.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the manifest says %d (truncated or replaced)", ErrCorruptCheckpoint, filepath.Join(c.Dir, name), st.Size(), want.Size)
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
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptCheckpoint, c.Dir, err)
	}
	if int64(len(data)) != want.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the manifest says %d (changed while being read)", ErrCorruptCheckpoint, path, len(data), want.Size)
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
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptCheckpoint, filepath.Join(c.Dir, name), err)
	}
	return ts, nil
}

// Tensors reads the model weights (and, when withState is true and the
// checkpoint has them, the optimizer and random-number state), keyed by
// full variable path ("/model/output/weights").
func (c *Checkpoint) Tensors(withState bool) (map[string]*tensors.Tensor, error) {
	names := []string{WeightsFile}
	if withState && c.HasState() {
		names = append(names, StateFile)
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
				return nil, fmt.Errorf("%w: %s/%s: %w", ErrCorruptCheckpoint, c.Dir, n, err)
			}
			if _, dup := out[t.Name]; dup {
				return nil, fmt.Errorf("%w: %s: tensor %q stored twice", ErrCorruptCheckpoint, c.Dir, t.Name)
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
		if f.Name == StateFile {
			return true
		}
	}
	return false
}

// ListCheckpoints lists the checkpoints of a run directory, oldest first.
// Entries whose manifest cannot be read are listed with Err set. A run
// directory without checkpoints gives an empty list; a path that does not
// exist gives an error.
func ListCheckpoints(runDir string) ([]CheckpointInfo, error) {
	if _, err := os.Stat(runDir); err != nil {
		return nil, fmt.Errorf("asr: run directory: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(runDir, CheckpointsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	var out []CheckpointInfo
	for _, e := range entries {
		step, ok := parseStepDir(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		info := CheckpointInfo{Step: step, Dir: filepath.Join(runDir, CheckpointsDir, e.Name())}
		info.Manifest, info.Err = ReadManifest(info.Dir)
		if info.Err == nil && info.Manifest.Step != step {
			info.Err = fmt.Errorf("%w: %s: manifest says step %d", ErrCorruptCheckpoint, info.Dir, info.Manifest.Step)
			info.Manifest = nil
		}
		if info.Err == nil && info.Manifest.Kind != KindCheckpoint {
			info.Err = fmt.Errorf("%w: %s: kind %q inside a run directory", ErrCorruptCheckpoint, info.Dir, info.Manifest.Kind)
			info.Manifest = nil
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b CheckpointInfo) int { return cmp.Compare(a.Step, b.Step) })
	return out, nil
}

// LatestCheckpoint returns the newest usable checkpoint of a run directory,
// verified. Damaged checkpoints (an unreadable manifest, a missing,
// truncated or corrupted tensor file) are skipped with a warning on the
// default slog logger. Without any usable checkpoint the error wraps
// [ErrNoCheckpoint].
func LatestCheckpoint(runDir string) (*Checkpoint, error) {
	list, err := ListCheckpoints(runDir)
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	return firstUsable(runDir, list)
}

// BestCheckpoint returns the usable checkpoint of a run directory with the
// lowest validation WER (ties: lower CER, then newer). When no checkpoint
// has been evaluated it returns the newest. Damaged checkpoints are skipped
// with a warning, as by [LatestCheckpoint].
func BestCheckpoint(runDir string) (*Checkpoint, error) {
	list, err := ListCheckpoints(runDir)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(list, compareBest)
	return firstUsable(runDir, list)
}

// compareBest orders checkpoints best first: evaluated ones by WER, CER and
// newest step; then unevaluated ones, newest first; unreadable ones last.
func compareBest(a, b CheckpointInfo) int {
	rank := func(c CheckpointInfo) int {
		switch {
		case c.Manifest == nil:
			return 2
		case c.Manifest.Metrics.Eval == nil:
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return cmp.Compare(ra, rb)
	}
	if rank(a) == 0 {
		ea, eb := a.Manifest.Metrics.Eval, b.Manifest.Metrics.Eval
		if c := cmp.Compare(ea.WER, eb.WER); c != 0 {
			return c
		}
		if c := cmp.Compare(ea.CER, eb.CER); c != 0 {
			return c
		}
	}
	return cmp.Compare(b.Step, a.Step)
}

func firstUsable(runDir string, list []CheckpointInfo) (*Checkpoint, error) {
	skipped := 0
	for _, info := range list {
		err := info.Err
		var c *Checkpoint
		if err == nil {
			c = &Checkpoint{Dir: info.Dir, Manifest: info.Manifest}
			err = c.Verify()
		}
		if err != nil {
			skipped++
			slog.Warn("skipping unusable checkpoint", "dir", info.Dir, "err", err)
			continue
		}
		return c, nil
	}
	if skipped > 0 {
		return nil, fmt.Errorf("%w in %s: all %d checkpoints are damaged", ErrNoCheckpoint, runDir, skipped)
	}
	return nil, fmt.Errorf("%w in %s: it has no checkpoints yet", ErrNoCheckpoint, runDir)
}

// IsRunDir reports whether dir looks like a run directory: it has a
// checkpoints folder and no manifest of its own.
func IsRunDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, CheckpointsDir))
	return err == nil && st.IsDir()
}

// OpenModel opens what a user names as a model: a model directory (from
// asr export), a single checkpoint directory, or a run directory, in which
// case its best checkpoint ([BestCheckpoint]) is used. The directory is
// verified; a damaged one named explicitly is an error wrapping
// [ErrCorruptCheckpoint].
func OpenModel(path string) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, fmt.Errorf("asr: model %s: %w", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file; give the directory that holds %s", ErrNotModel, path, ManifestFile)
	}
	if _, err := os.Stat(filepath.Join(path, ManifestFile)); err == nil {
		return OpenCheckpoint(path)
	}
	if IsRunDir(path) {
		return BestCheckpoint(path)
	}
	return nil, fmt.Errorf("%w: %s has neither %s (a model directory or checkpoint) nor %s/ (a run directory)", ErrNotModel, path, ManifestFile, CheckpointsDir)
}

// SaveCheckpoint writes a checkpoint of runDir for m.Step atomically: the
// files go to a temporary folder inside the checkpoints folder, are synced
// to disk, and the folder is renamed to its final name, so a crash (even
// kill -9) at any instant leaves either the new checkpoint complete or no
// trace of it beside the previous ones. An existing checkpoint of the same
// step is replaced.
//
// weights are the model variables and state the rest of the training state
// (optimizer moments, random-number state), keyed by full variable path.
// m.Kind is set to "checkpoint", m.Files and m.Time are filled in; m must
// otherwise be complete (see [Manifest.Validate]).
func SaveCheckpoint(runDir string, m *Manifest, weights, state map[string]*tensors.Tensor) (*Checkpoint, error) {
	if m.Training == nil {
		return nil, errors.New("asr: SaveCheckpoint: the manifest has no training state")
	}
	dir := filepath.Join(runDir, CheckpointsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("asr: %w", err)
	}
	removeLeftovers(dir)
	mm := *m
	mm.Kind = KindCheckpoint
	final := filepath.Join(dir, stepDirName(m.Step))
	if err := writeDir(final, &mm, weights, state, tensorfile.Options{}); err != nil {
		return nil, err
	}
	return &Checkpoint{Dir: final, Manifest: &mm}, nil
}

// removeLeftovers deletes the temporary folders that an interrupted save,
// replacement or removal left in dir.
func removeLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".old-") {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// writeDir writes a manifest and its tensor files into final, atomically
// (temporary sibling folder, fsync, rename).
func writeDir(final string, m *Manifest, weights, state map[string]*tensors.Tensor, opts tensorfile.Options, extra ...namedFile) (err error) {
	parent := filepath.Dir(final)
	tmp, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	m.FormatVersion = FormatVersion
	m.Time = time.Now().UTC().Truncate(time.Millisecond)
	m.Files = nil
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
	}
	for _, f := range extra {
		if err := writeFileSync(filepath.Join(tmp, f.name), f.data); err != nil {
			return err
		}
		m.Files = append(m.Files, FileInfo{Name: f.name, Size: int64(len(f.data))})
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("asr: refusing to save an invalid manifest: %w", err)
	}
	b, err := m.marshal()
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(tmp, ManifestFile), b); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if _, statErr := os.Stat(final); statErr == nil {
		// Move the old one aside first: a rename cannot replace a non-empty
		// folder. A crash between the two renames leaves the old copy in a
		// ".old-" folder (removed by the next save) and the other
		// checkpoints untouched.
		old := filepath.Join(parent, ".old-"+filepath.Base(final)+fmt.Sprintf("-%d", time.Now().UnixNano()))
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("asr: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	return syncDir(parent)
}

// namedFile is a file other than the manifest and tensor files that
// writeDir puts into a directory.
type namedFile struct {
	name string
	data []byte
}

// writeTensors writes vals, sorted by name, to a tensor file and syncs it.
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
		return 0, fmt.Errorf("asr: %w", err)
	}
	defer f.Close()
	if err := tensorfile.Write(f, ts, opts); err != nil {
		return 0, fmt.Errorf("asr: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("asr: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("asr: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("asr: %w", err)
	}
	return st.Size(), nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("asr: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("asr: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	return nil
}

// syncDir makes a folder's entries (new files, renames) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("asr: sync %s: %w", dir, err)
	}
	return nil
}

// PruneCheckpoints deletes the checkpoints of runDir except the keepLast
// newest and the keepBest best by validation WER (see [BestCheckpoint]).
// Checkpoints whose manifest cannot be read are left alone. Each removal
// first renames the folder out of the way, so an interrupted removal never
// leaves a half-deleted checkpoint. It returns the folders removed.
func PruneCheckpoints(runDir string, keepLast, keepBest int) ([]string, error) {
	list, err := ListCheckpoints(runDir)
	if err != nil {
		return nil, err
	}
	var valid []CheckpointInfo
	for _, c := range list {
		if c.Err == nil {
			valid = append(valid, c)
		}
	}
	keep := map[int64]bool{}
	for i := len(valid) - 1; i >= 0 && i >= len(valid)-keepLast; i-- {
		keep[valid[i].Step] = true
	}
	best := slices.Clone(valid)
	slices.SortStableFunc(best, compareBest)
	for i := 0; i < len(best) && i < keepBest; i++ {
		if best[i].Manifest.Metrics.Eval != nil {
			keep[best[i].Step] = true
		}
	}
	var removed []string
	for _, c := range valid {
		if keep[c.Step] {
			continue
		}
		old := filepath.Join(filepath.Dir(c.Dir), ".old-"+filepath.Base(c.Dir))
		if err := os.Rename(c.Dir, old); err != nil {
			return removed, fmt.Errorf("asr: removing checkpoint: %w", err)
		}
		if err := os.RemoveAll(old); err != nil {
			return removed, fmt.Errorf("asr: removing checkpoint: %w", err)
		}
		removed = append(removed, c.Dir)
	}
	return removed, nil
}

// toTensorfile copies a GoMLX tensor (fetching it from the device if
// needed) into a tensor-file entry.
func toTensorfile(name string, t *tensors.Tensor) (tensorfile.Tensor, error) {
	if t == nil {
		return tensorfile.Tensor{}, fmt.Errorf("asr: tensor %q has no value", name)
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
		return out, fmt.Errorf("asr: tensor %q: %w", name, err)
	}
	return out, nil
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
