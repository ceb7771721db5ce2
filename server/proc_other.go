//go:build !unix

package server

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

func ownershipHint(string) string { return "" }

func childAttrs(*exec.Cmd) {}

// terminate cannot ask a process to stop gracefully on this system.
func terminate(int) error {
	return errors.New("stopping a training job needs a Unix system (SIGTERM)")
}

func alive(int) bool { return false }

func runLocked(string) bool { return false }

func exitReason(state *os.ProcessState) string {
	return fmt.Sprintf("the training process exited with status %d", state.ExitCode())
}
