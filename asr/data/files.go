package data

import (
	"os"
	"path/filepath"

	"github.com/asrkit/asrkit/internal/atomicfile"
)

// writeFileAtomic writes data to path atomically and durably (see package
// internal/atomicfile), creating its folder if needed: readers never see a
// partial file, and a crash leaves the old content or the new.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// writeCacheEntry writes a feature-cache entry atomically but without
// syncing it to disk (atomicfile.ReplaceFile): an entry lost to a system
// crash is computed again, and a sync per clip would slow the cache build
// by several milliseconds per clip.
func writeCacheEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.ReplaceFile(path, data, 0o644)
}
