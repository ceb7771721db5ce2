package checkpoint

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/asrkit/asrkit/internal/atomicfile"
)

// The kill test's child process: writerEnv names the run directory it
// saves into, stopEnv where it stops ("STAGE N": the N-th time the save
// reaches STAGE, see testHook; "swap-replace N": the N-th swap of a save
// that replaces an existing checkpoint). Stopped, it prints "stopped" and
// waits to be killed.
const (
	writerEnv = "ASRKIT_TEST_CHECKPOINT_WRITER"
	stopEnv   = "ASRKIT_TEST_CHECKPOINT_STOP"
)

// killWeights returns about 2 MB of weights whose values encode step, so a
// reader can check that a checkpoint holds its own step's data.
func killWeights(step int64) (weights, state map[string]*tensors.Tensor) {
	v := float32(step)
	weights = map[string]*tensors.Tensor{
		"/model/big/weights": filled(func(i int) float32 { return v + float32(i%7) }, 256, 1024),
		"/model/big/biases":  filled(func(int) float32 { return v }, 1024),
	}
	state = map[string]*tensors.Tensor{
		"/optimizer/m/model/big/weights": filled(func(int) float32 { return -v }, 256, 1024),
	}
	return weights, state
}

// writeUntilStopped saves checkpoints of increasing steps into run (each
// even step twice: the second save replaces the first), pruning to the two
// newest after each, until the stop point stops it.
func writeUntilStopped(run, stop string) int {
	stage, nth, ok := strings.Cut(stop, " ")
	n, err := strconv.Atoi(nth)
	if !ok || err != nil {
		fmt.Fprintln(os.Stderr, "bad", stopEnv, stop)
		return 2
	}
	replacing, seen := false, 0
	testHook = func(s string) {
		if s == "swap" && replacing {
			s = "swap-replace"
		}
		if s != stage {
			return
		}
		if seen++; seen == n {
			fmt.Println("stopped")
			os.Stdout.Sync()
			time.Sleep(time.Hour) // until killed
		}
	}
	start := int64(1)
	if c, err := Latest(run, nil); err == nil {
		start = c.Manifest.Step + 1
	}
	for step := start; step < start+1000; step++ {
		w, s := killWeights(step)
		for i := 0; i < 1+int(1-step%2); i++ {
			replacing = i == 1
			if _, err := Save(run, testManifest(step), w, s); err != nil {
				fmt.Fprintln(os.Stderr, "save:", err)
				return 2
			}
		}
		replacing = false
		if _, err := Prune(run, 2, 0); err != nil {
			fmt.Fprintln(os.Stderr, "prune:", err)
			return 2
		}
	}
	fmt.Fprintln(os.Stderr, "the stop point was never reached:", stop)
	return 3
}

// TestKillDuringSave runs a real process that saves (and prunes)
// checkpoints, stops it at a chosen instant of a save (after each file is
// written into the temporary folder, before the rename into place, while a
// checkpoint is being replaced, in the middle of a removal), kills it with
// SIGKILL there, and checks after each kill that every visible checkpoint
// is complete, that the newest loads and holds its own step's values, and
// that the next save cleans up what the killed one left.
func TestKillDuringSave(t *testing.T) {
	if run := os.Getenv(writerEnv); run != "" {
		os.Exit(writeUntilStopped(run, os.Getenv(stopEnv)))
	}
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	run := t.TempDir()
	last := int64(0)
	for round, stop := range []string{
		"weights 1", // the first save: killed before it completes
		"manifest 2",
		"swap 3",
		"state 2",
		"swap-replace 1", // the old copy moved aside, the new one not yet in place
		"prune 1",        // a pruned checkpoint renamed aside, not yet deleted
		"swap 1",
		"swap-replace 2",
		"prune 2",
		"weights 3",
	} {
		killAt(t, run, stop)
		list, err := List(run)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range list {
			if _, err := usable(info); err != nil {
				t.Fatalf("round %d (%s): a damaged checkpoint is visible: %v", round, stop, err)
			}
		}
		c, err := Latest(run, nil)
		if err != nil {
			if last == 0 {
				continue // killed before the first save finished
			}
			t.Fatalf("round %d (%s): %v", round, stop, err)
		}
		step := c.Manifest.Step
		if step < last {
			t.Fatalf("round %d (%s): the newest checkpoint went back from step %d to %d", round, stop, last, step)
		}
		last = step
		checkOwnValues(t, c)
	}
	if last < 5 {
		t.Fatalf("only %d checkpoints were completed: the stops did not exercise saving", last)
	}
	// A save in this process removes what the killed ones left behind.
	w, s := killWeights(last + 1)
	if _, err := Save(run, testManifest(last+1), w, s); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(run, CheckpointsDir))
	for _, e := range entries {
		if _, ok := atomicfile.TempOf(e.Name()); ok {
			t.Errorf("leftover %s after the next save", e.Name())
		}
	}
}

// killAt starts a writer that stops at stop, and kills it with SIGKILL once
// it has stopped there.
func killAt(t *testing.T, run, stop string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSave$")
	cmd.Env = append(os.Environ(), writerEnv+"="+run, stopEnv+"="+stop)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "stopped" {
				stopped <- true
				return
			}
		}
		stopped <- false
	}()
	select {
	case ok := <-stopped:
		if !ok {
			cmd.Wait()
			t.Fatalf("writer for %q ended without stopping: %s", stop, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("writer for %q did not stop in 2 minutes", stop)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("writer ended by itself (%v), not by the kill: %s", err, stderr.String())
	}
}

// checkOwnValues checks that a checkpoint holds the values killWeights
// gives its step.
func checkOwnValues(t *testing.T, c *Checkpoint) {
	t.Helper()
	step := c.Manifest.Step
	ws, err := c.Tensors(true)
	if err != nil {
		t.Fatal(err)
	}
	tensors.MustConstFlatData(ws["/model/big/biases"], func(f []float32) {
		if f[0] != float32(step) || f[len(f)-1] != float32(step) {
			t.Fatalf("step %d holds biases of step %v", step, f[0])
		}
	})
	tensors.MustConstFlatData(ws["/optimizer/m/model/big/weights"], func(f []float32) {
		if f[12345] != -float32(step) {
			t.Fatalf("step %d holds optimizer state of step %v", step, -f[12345])
		}
	})
}
