package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// within reports whether path is root or lies under it (lexically: the
// paths are cleaned, symbolic links are not followed, so a link the
// operator put inside a root is honoured).
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveUnder resolves a path from a request: a relative one is joined to
// base; the result must lie under one of the roots. key names the path in
// the error (a 400).
func (s *Server) resolveUnder(key, p, base string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", errorf(http.StatusBadRequest, "%s: invalid path", key)
	}
	abs := p
	if !filepath.IsAbs(p) {
		abs = filepath.Join(base, p)
	}
	abs = filepath.Clean(abs)
	if !within(abs, s.dataDir) && !within(abs, s.ckptDir) {
		return "", errorf(http.StatusBadRequest, "%s: %s is outside the data root (%s) and the checkpoint root (%s); the server only reads and writes under them",
			key, p, s.dataDir, s.ckptDir)
	}
	return abs, nil
}

// checkWritable makes sure the checkpoint root exists and is writable, and
// says how to fix its ownership when it is not (the usual cause: a Docker
// volume created by root on the host while the container runs as a user).
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		hint := ""
		if errors.Is(err, os.ErrPermission) {
			hint = ownershipHint(dir)
		}
		return fmt.Errorf("server: cannot create the checkpoint root %s: %w%s", dir, err, hint)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("server: the checkpoint root %s is not writable%s", dir, ownershipHint(dir))
		}
		return fmt.Errorf("server: the checkpoint root %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
