//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// ownershipHint says who owns dir (or its nearest existing parent) and
// who this process runs as, with the command that fixes it.
func ownershipHint(dir string) string {
	p := dir
	var st os.FileInfo
	for {
		var err error
		if st, err = os.Stat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return ""
		}
		p = parent
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid, gid := os.Getuid(), os.Getgid()
	return fmt.Sprintf(" (%s belongs to uid %d, gid %d, mode %v; this server runs as uid %d, gid %d).\n"+
		"Fix: give it to the server's user, e.g. on the Docker host `sudo chown -R %d:%d ./checkpoints` "+
		"(the folder mounted at %s), or run the server as its owner",
		p, sys.Uid, sys.Gid, st.Mode().Perm(), uid, gid, uid, gid, dir)
}

// childAttrs puts a training process in a process group of its own, so a
// Ctrl+C on the server's terminal does not reach it: the server sends it
// one SIGTERM itself (a second would make it quit without saving).
func childAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks a training process to save a checkpoint and stop.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// alive reports whether a process exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// runLocked reports whether a process holds the run directory's training
// lock (the file lock of asr/train, released when its process ends).
func runLocked(lockPath string) bool {
	f, err := os.Open(lockPath)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// exitReason describes how a process ended, from its wait status.
func exitReason(state *os.ProcessState) string {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		msg := fmt.Sprintf("the training process was killed by signal %d (%v)", int(sig), sig)
		if sig == syscall.SIGKILL {
			msg += ": killed from outside, or by the kernel for lack of memory (see dmesg)"
		}
		return msg
	}
	return fmt.Sprintf("the training process exited with status %d", state.ExitCode())
}
