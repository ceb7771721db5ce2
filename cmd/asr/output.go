package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/asrkit/asrkit/internal/atomicfile"
)

// errExists says that an output file exists and --force was not given.
var errExists = errors.New("already exists")

// checkOutput says whether the command may write its output to path:
// nil when path does not exist, or exists and may be replaced (a regular
// file with force) or written into (a device or a pipe: /dev/null,
// /dev/stdout); an error wrapping errExists for a regular file without
// force; an error for a folder, or for one of the inputs (even with force:
// an output never replaces what is still to be read).
func checkOutput(path string, inputs []string, force bool) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("the output %s is also an input; write it elsewhere", path)
		}
	}
	switch {
	case st.IsDir():
		return fmt.Errorf("the output %s is a folder", path)
	case !st.Mode().IsRegular():
		return nil // written into, never replaced
	case !force:
		return fmt.Errorf("%s %w", path, errExists)
	}
	return nil
}

// writeOutput writes an output file atomically (internal/atomicfile: a
// temporary file in the same folder, synced and renamed into place), so
// that an interrupted run leaves the old file (or none), never half a
// file. A path that exists and is not a regular file (a device, a pipe) is
// written into instead, never replaced. The caller has checked the path
// with checkOutput; a regular file that appeared since is only replaced
// with force.
func writeOutput(path string, force bool, fn func(io.Writer) error) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.Mode().IsRegular() && !st.IsDir():
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case err == nil && !force:
		return fmt.Errorf("%s %w", path, errExists)
	}
	return atomicfile.Write(path, 0o644, fn)
}
