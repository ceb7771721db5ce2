//go:build unix

package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/asrkit/asrkit/asr/checkpoint"
)

// lockRun takes the run directory's lock, failing at once if another
// process holds it. The lock goes with the process, so a killed trainer
// never leaves a stale lock.
func lockRun(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, checkpoint.LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("train: %s is in use by another training process", dir)
		}
		return nil, fmt.Errorf("train: locking %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
