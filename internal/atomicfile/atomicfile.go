// Package atomicfile writes files and folders so that a reader, or a crash
// at any instant (kill -9, power loss once the writes are synced), sees
// either the old content or the complete new one, never a part.
//
// A file is written to a temporary file in the same folder, synced to disk,
// renamed over its final name, and the folder is synced so that the rename
// itself is durable ([Write], [WriteFile]). A folder is filled in a
// temporary sibling folder, every file in it is synced, and it is renamed
// into place ([WriteDir]). Temporary names start with ".tmp-" (and, for a
// folder being replaced, ".old-") followed by the final name; a crash can
// leave one behind, and [TempOf] recognises them so that their owner can
// clean up.
//
// Only regular files are ever replaced: a device (/dev/null), a named pipe
// or a folder at the target path is refused with [ErrNotRegular]. A target
// that is a symbolic link is followed: the file it points to is replaced
// and the link is kept.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotRegular is returned when the target of a write exists and is not a
// regular file (or, for [WriteDir], not a folder).
var ErrNotRegular = errors.New("not a regular file")

// Write creates or replaces the file path atomically with what write writes
// into it. The file gets perm (before the umask), or the permission bits
// of the file it replaces. When write or any step fails, path is left as
// it was and the temporary file is removed.
func Write(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	return writeFile(path, perm, true, write)
}

// WriteFile is [Write] of the bytes data: os.WriteFile, atomically.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, bytesWriter(data))
}

// ReplaceFile is [WriteFile] without the syncs: readers never see a part
// of the file, and a crash of the process leaves the old or the new
// content, but a crash of the operating system may leave the file empty
// or missing. It is for files that can be computed again (cache entries),
// where a sync per file would cost more than it saves.
func ReplaceFile(path string, data []byte, perm fs.FileMode) error {
	return writeFile(path, perm, false, bytesWriter(data))
}

func bytesWriter(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

func writeFile(path string, perm fs.FileMode, sync bool, write func(w io.Writer) error) (err error) {
	path, err = resolve(path)
	if err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("%w (%s): refusing to replace it", ErrNotRegular, kind(st.Mode()))}
		}
		perm = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return SyncDir(dir)
}

// resolve follows symbolic links to the file they name, so that writing
// through a link replaces its target and keeps the link. A path that does
// not exist (yet) is returned as it is.
func resolve(path string) (string, error) {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link: create the file it names.
		link, lerr := os.Readlink(path)
		if lerr != nil {
			return "", lerr
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		return link, nil
	}
	return target, err
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// SyncDir makes a folder's entries (new files, renames, removals) durable.
// File systems that cannot sync a folder are not an error.
func SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

const (
	tempPrefix = ".tmp-"
	oldPrefix  = ".old-"
)

// TempOf reports whether name (a file name, not a path) is a temporary
// entry that [Write] or [WriteDir] makes beside a target, and returns the
// target's name. The temporary entries of target "step-000000100" are
// ".tmp-step-000000100-<random>" and ".old-step-000000100-<random>".
func TempOf(name string) (target string, ok bool) {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(name, oldPrefix)
	}
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// DirOptions configure [WriteDir].
type DirOptions struct {
	// Replace allows an existing folder at the target path to be replaced.
	// Without it an existing target is an error wrapping fs.ErrExist.
	Replace bool
	// BeforeSwap, when not nil, is called once everything is written and
	// synced, just before the new folder takes the target's place (after an
	// existing one has been moved aside). Tests use it to stop a process at
	// that instant; it is not needed otherwise.
	BeforeSwap func()
}

// WriteDir creates the folder path atomically: fill writes the folder's
// content into tmp, a new folder beside path; then every regular file in
// tmp and tmp itself are synced, and tmp is renamed to path, and the
// parent folder synced. When fill or any step fails, path is left as it was
// and tmp is removed.
//
// A folder that already exists at path is replaced when opts.Replace is
// set: it is first renamed aside (".old-" name), the new one renamed in,
// and the old one removed. A crash between the two renames leaves no
// folder at path and the old content under its ".old-" name (see
// [TempOf]); the caller's clean-up removes it.
func WriteDir(path string, opts DirOptions, fill func(tmp string) error) (err error) {
	path = filepath.Clean(path)
	parent, base := filepath.Dir(path), filepath.Base(path)
	exists := false
	if st, err := os.Lstat(path); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("%w: exists and is not a folder", ErrNotRegular)}
		}
		if !opts.Replace {
			return &fs.PathError{Op: "write", Path: path, Err: fs.ErrExist}
		}
		exists = true
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix+base+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	if exists {
		old := fmt.Sprintf("%s%s%s-%d", parent+string(filepath.Separator), oldPrefix, base, time.Now().UnixNano())
		if err := os.Rename(path, old); err != nil {
			return err
		}
		defer os.RemoveAll(old)
	}
	if opts.BeforeSwap != nil {
		opts.BeforeSwap()
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(parent)
}

// syncTree syncs every regular file under dir, and every folder.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return SyncDir(p)
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			serr := f.Sync()
			cerr := f.Close()
			if serr != nil {
				return fmt.Errorf("sync %s: %w", p, serr)
			}
			return cerr
		}
		return nil
	})
}
