package checkpoint

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

	"github.com/asrkit/asrkit/internal/atomicfile"
)

// The layout of a run directory: this package is the one place that names
// its parts. Training (package asr/train) writes them; asr export, asr
// checkpoint and Load read them.
const (
	// CheckpointsDir is the folder of a run directory that holds its
	// checkpoints, one sub-folder per saved step ([StepDir]).
	CheckpointsDir = "checkpoints"
	// LogFile is the run's training log: one JSON event per line, appended
	// to by every training run (unless the config sends it elsewhere).
	LogFile = "train.jsonl"
	// StatusFile is the job status file: the training job's latest state,
	// rewritten atomically at every state change and checkpoint.
	StatusFile = "status.json"
	// LockFile is held (flock) by the one process training into the run
	// directory.
	LockFile = ".lock"
)

// StepDir returns the folder of the checkpoint of step in a run directory:
// runDir/checkpoints/step-000001200.
func StepDir(runDir string, step int64) string {
	return filepath.Join(runDir, CheckpointsDir, stepDirName(step))
}

// Info is one entry of a run directory's checkpoints folder, as listed by
// [List].
type Info struct {
	// Step is the step in the folder's name.
	Step int64
	// Dir is the checkpoint's folder.
	Dir string
	// Manifest is the parsed manifest, or nil when Err is set.
	Manifest *Manifest
	// Err says why the checkpoint cannot be used (its manifest is missing
	// or invalid), or is nil. Tensor files are not read by List; use
	// [Open] to verify them.
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

// List lists the checkpoints of a run directory, oldest first. Entries
// whose manifest cannot be read are listed with Err set. A run directory
// without checkpoints gives an empty list; a path that does not exist
// gives an error.
func List(runDir string) ([]Info, error) {
	if _, err := os.Stat(runDir); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(runDir, CheckpointsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range entries {
		step, ok := parseStepDir(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		info := Info{Step: step, Dir: filepath.Join(runDir, CheckpointsDir, e.Name())}
		info.Manifest, info.Err = ReadManifest(info.Dir)
		if info.Err == nil && info.Manifest.Step != step {
			info.Err = fmt.Errorf("%w: %s: manifest says step %d", ErrCorrupt, info.Dir, info.Manifest.Step)
			info.Manifest = nil
		}
		if info.Err == nil && info.Manifest.Kind != KindCheckpoint {
			info.Err = fmt.Errorf("%w: %s: kind %q inside a run directory", ErrCorrupt, info.Dir, info.Manifest.Kind)
			info.Manifest = nil
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(a.Step, b.Step) })
	return out, nil
}

// Latest returns the newest usable checkpoint of a run directory, verified.
// Damaged checkpoints (an unreadable manifest, a missing, truncated or
// corrupted tensor file) are skipped, each with a warning on log (nil:
// silently). Without any usable checkpoint the error wraps
// [ErrNoCheckpoint].
func Latest(runDir string, log *slog.Logger) (*Checkpoint, error) {
	list, err := List(runDir)
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	return firstUsable(runDir, list, log)
}

// Best returns the best usable checkpoint of a run directory: the one whose
// validation scores rank first by [CompareEval] (lowest WER, then lowest
// CER), the newest among equals. When no checkpoint has been evaluated it
// returns the newest. Damaged checkpoints are skipped, as by [Latest].
//
// This is the one definition of "best" in asrkit: the trainer's "best"
// mark on a checkpoint event, the keep_best pruning, asr export and
// [OpenModel] all use it.
func Best(runDir string, log *slog.Logger) (*Checkpoint, error) {
	list, err := List(runDir)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(list, compareBest)
	return firstUsable(runDir, list, log)
}

// CompareEval ranks two evaluations for choosing the best checkpoint: it
// is negative when a is better than b, positive when b is better, and 0
// when they rank equal (then the newer checkpoint is preferred). Lower WER
// is better; equal WERs are ranked by CER. A nil evaluation ranks below
// any other.
func CompareEval(a, b *EvalMetrics) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	if c := cmp.Compare(a.WER, b.WER); c != 0 {
		return c
	}
	return cmp.Compare(a.CER, b.CER)
}

// compareBest orders checkpoints best first: evaluated ones by CompareEval,
// newest first among equals; then unevaluated ones, newest first;
// unreadable ones last.
func compareBest(a, b Info) int {
	readable := func(c Info) int {
		if c.Manifest == nil {
			return 1
		}
		return 0
	}
	if c := cmp.Compare(readable(a), readable(b)); c != 0 {
		return c
	}
	if a.Manifest != nil {
		if c := CompareEval(a.Manifest.Metrics.Eval, b.Manifest.Metrics.Eval); c != 0 {
			return c
		}
	}
	return cmp.Compare(b.Step, a.Step)
}

// usable returns the checkpoint of a listed entry, verified, or why it
// cannot be used.
func usable(info Info) (*Checkpoint, error) {
	if info.Err != nil {
		return nil, info.Err
	}
	c := &Checkpoint{Dir: info.Dir, Manifest: info.Manifest}
	if err := c.Verify(); err != nil {
		return nil, err
	}
	return c, nil
}

func firstUsable(runDir string, list []Info, log *slog.Logger) (*Checkpoint, error) {
	skipped := 0
	for _, info := range list {
		c, err := usable(info)
		if err != nil {
			skipped++
			warn(log, "skipping unusable checkpoint", "dir", info.Dir, "err", err)
			continue
		}
		return c, nil
	}
	if skipped > 0 {
		return nil, fmt.Errorf("%w in %s: all %d checkpoints are damaged", ErrNoCheckpoint, runDir, skipped)
	}
	return nil, fmt.Errorf("%w in %s: it has no checkpoints yet", ErrNoCheckpoint, runDir)
}

// warn logs a warning on log, if there is one.
func warn(log *slog.Logger, msg string, args ...any) {
	if log != nil {
		log.Warn(msg, args...)
	}
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

// Prune deletes the checkpoints of runDir except the keepLast newest and
// the keepBest best (as [Best] ranks them; only evaluated checkpoints count
// as best). Checkpoints whose manifest cannot be read are left alone. Each
// removal first renames the folder out of the way, so an interrupted
// removal never leaves a half-deleted checkpoint under a step-* name. It
// returns the folders removed.
func Prune(runDir string, keepLast, keepBest int) ([]string, error) {
	list, err := List(runDir)
	if err != nil {
		return nil, err
	}
	var valid []Info
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
		if err := removeDir(c.Dir); err != nil {
			return removed, fmt.Errorf("removing checkpoint: %w", err)
		}
		removed = append(removed, c.Dir)
	}
	return removed, nil
}

// removeDir deletes a checkpoint folder: renamed aside first (a name that
// removeLeftovers recognises), then removed.
func removeDir(dir string) error {
	old := filepath.Join(filepath.Dir(dir), fmt.Sprintf(".old-%s-%d", filepath.Base(dir), time.Now().UnixNano()))
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	testHook("prune")
	return os.RemoveAll(old)
}

// removeLeftovers deletes the temporary folders that an interrupted save,
// replacement or removal left in a checkpoints folder.
func removeLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if target, ok := atomicfile.TempOf(e.Name()); ok {
			if _, isStep := parseStepDir(target); isStep {
				_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// RemoveCheckpoints deletes the checkpoints of a run directory, and only
// them: the step-* folders that [Save] writes and the temporary folders
// of an interrupted save or removal. Anything else in the checkpoints
// folder (a file or folder a user put there) is kept, and so is the folder
// itself unless it ends up empty. It returns the number of checkpoints
// removed. A run directory without a checkpoints folder is not an error.
func RemoveCheckpoints(runDir string) (int, error) {
	dir := filepath.Join(runDir, CheckpointsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	removeLeftovers(dir)
	n := 0
	for _, e := range entries {
		if _, ok := parseStepDir(e.Name()); !ok || !e.IsDir() {
			continue
		}
		if err := removeDir(filepath.Join(dir, e.Name())); err != nil {
			return n, fmt.Errorf("removing checkpoint: %w", err)
		}
		n++
	}
	if rest, err := os.ReadDir(dir); err == nil && len(rest) == 0 {
		if err := os.Remove(dir); err != nil {
			return n, err
		}
	}
	return n, atomicfile.SyncDir(runDir)
}
