package checkpoint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// writerEnv, when set to a run directory, turns TestKillDuringSave in a
// child test process into a writer that saves checkpoints of increasing
// steps into it without end, until the parent kills it.
const writerEnv = "ASRKIT_TEST_CHECKPOINT_WRITER"

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

func writeForever(run string) int {
	start := int64(1)
	if c, err := Latest(run, nil); err == nil {
		start = c.Manifest.Step + 1
	}
	for step := start; ; step++ {
		w, s := killWeights(step)
		if _, err := Save(run, testManifest(step), w, s); err != nil {
			fmt.Fprintln(os.Stderr, "save:", err)
			return 2
		}
		if _, err := Prune(run, 2, 0); err != nil {
			fmt.Fprintln(os.Stderr, "prune:", err)
			return 2
		}
		fmt.Println(step)
	}
}

// TestKillDuringSave runs a real process that saves (and prunes)
// checkpoints in a loop, kills it with SIGKILL at random instants, and
// checks after each kill that the newest checkpoint loads, holds its own
// step's values, and that no damaged checkpoint is ever visible.
func TestKillDuringSave(t *testing.T) {
	if run := os.Getenv(writerEnv); run != "" {
		os.Exit(writeForever(run))
	}
	if testing.Short() {
		t.Skip("spawns and kills processes")
	}
	run := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	last := int64(0)
	kills := 0
	for round := 0; round < 25; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSave$")
		cmd.Env = append(os.Environ(), writerEnv+"="+run)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+r.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("writer ended by itself (%v), not by the kill", err)
		}
		kills++

		list, err := List(run)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range list {
			if info.Err != nil {
				t.Fatalf("after kill %d: damaged checkpoint visible: %v", kills, info.Err)
			}
			if err := (&Checkpoint{Dir: info.Dir, Manifest: info.Manifest}).Verify(); err != nil {
				t.Fatalf("after kill %d: damaged checkpoint visible: %v", kills, err)
			}
		}
		c, err := Latest(run, nil)
		if err != nil {
			if last == 0 {
				continue // killed before the first save finished
			}
			t.Fatalf("after kill %d: %v", kills, err)
		}
		step := c.Manifest.Step
		if step < last {
			t.Fatalf("after kill %d: newest checkpoint went back from step %d to %d", kills, last, step)
		}
		last = step
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
	if last < 5 {
		t.Fatalf("only %d checkpoints were completed in %d runs: the kills did not exercise saving", last, kills)
	}
	t.Logf("%d kills, newest step %s", kills, strconv.FormatInt(last, 10))
}
