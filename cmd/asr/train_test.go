package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/asr/checkpoint"
	"github.com/asrkit/asrkit/internal/testutil"
)

// runCmd runs "asr ARGS..." in process through an app holding the named
// commands, as runData does.
func runCmd(t *testing.T, names []string, args ...string) (string, error) {
	t.Helper()
	var cmds []*cli.Command
	for _, c := range commands {
		for _, n := range names {
			if c.Name == n {
				cmds = append(cmds, c)
			}
		}
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: cmds, Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	err := app.Run(reorderArgs(app, append([]string{"asr"}, args...)))
	return out.String(), err
}

// trainConfig writes a config that trains tiny on testdata/corpus (two
// clips held out for validation) into a fresh folder, and returns its path
// and the run directory.
func trainConfig(t *testing.T, extra string) (cfg, run string) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "val.txt"), []byte("SYN-0002\nSYN-0005\n"), 0o644)
	body := fmt.Sprintf(`datasets:
  ljspeech:
    path: %s
  split:
    lists:
      val: val.txt
  cache_dir: cache
  workers: 2
  batching:
    buckets: [176]
    max_frames: 352
model:
  preset: tiny
log:
  every: 2
train:
  backend: go
  learning_rate: 3.0e-3
  warmup_steps: 2
  seed: 1
%s`, testutil.Path(t, "corpus"), extra)
	cfg = filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "runs", "exp")
}

func TestTrainInspectExport(t *testing.T) {
	cfg, run := trainConfig(t, "  steps: 8\n  eval_every: 4\ncheckpoint:\n  every: 4\n  keep: 2\n  average_last: 2\n")
	names := []string{"train", "checkpoint", "export"}
	out, err := runCmd(t, names, "train", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"finished: step 8 of 8", "run directory: " + run, "validation:    WER", "audio-s/s over"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	// A second run has nothing left to do.
	if out, err = runCmd(t, names, "train", "--config", cfg); err != nil || !strings.Contains(out, "already finished: step 8") {
		t.Errorf("rerun: %v\n%s", err, out)
	}
	// --fresh without --force refuses; --force without --fresh too.
	if _, err = runCmd(t, names, "train", "--fresh", "--config", cfg); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("--fresh over checkpoints: %v", err)
	}
	if _, err = runCmd(t, names, "train", "--force", "--config", cfg); err == nil {
		t.Error("--force without --fresh accepted")
	}

	out, err = runCmd(t, names, "checkpoint", "inspect", run)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nstep 8\n", "kind checkpoint\n", "model tiny: d_model", "eval step 8: WER", "file weights.safetensors", "file state.safetensors", "vocabulary 29 symbols"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if out, err = runCmd(t, names, "checkpoint", "inspect", "--json", run); err != nil || !strings.Contains(out, `"step": 8`) {
		t.Errorf("inspect --json: %v\n%s", err, out)
	}
	out, err = runCmd(t, names, "checkpoint", "list", run)
	if err != nil || !strings.Contains(out, "\n4 ") || !strings.Contains(out, "\n8 ") {
		t.Errorf("list: %v\n%s", err, out)
	}

	model := filepath.Join(t.TempDir(), "model")
	out, err = runCmd(t, names, "export", "--out", model, run)
	if err != nil {
		t.Fatal(err)
	}
	// checkpoint.average_last: 2 is the default of --average.
	if !strings.Contains(out, "average of steps [4 8]") {
		t.Errorf("export output:\n%s", out)
	}
	if _, err = runCmd(t, names, "export", "--out", model, run); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("export over an existing model: %v", err)
	}
	out, err = runCmd(t, names, "export", "--average", "0", "--float16", "--force", "--out", model, run)
	if err != nil || !strings.Contains(out, "checkpoint of step") || !strings.Contains(out, "float16 true") {
		t.Errorf("export --average 0 --float16: %v\n%s", err, out)
	}
	out, err = runCmd(t, names, "checkpoint", "inspect", model)
	if err != nil || !strings.Contains(out, "kind model\n") || strings.Contains(out, "state.safetensors") || !strings.Contains(out, "export best checkpoint") {
		t.Errorf("inspect of the model: %v\n%s", err, out)
	}
	if _, err := checkpoint.OpenModel(model, nil); err != nil {
		t.Errorf("OpenModel(exported): %v", err)
	}
}

func TestTrainCommandErrors(t *testing.T) {
	names := []string{"train", "checkpoint", "export"}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("datasets:\n  ljspeech:\n    path: x\ntrain:\n  stepz: 3\n"), 0o644)
	if _, err := runCmd(t, names, "train", "--config", bad); err == nil || !strings.Contains(err.Error(), "bad.yaml:5:3: train.stepz: unknown key") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := runCmd(t, names, "checkpoint", "inspect", t.TempDir()); err == nil {
		t.Error("inspect of an empty folder succeeded")
	}
	if _, err := runCmd(t, names, "export", "--out", filepath.Join(t.TempDir(), "m"), t.TempDir()); err == nil {
		t.Error("export of an empty folder succeeded")
	}
	if _, err := runCmd(t, names, "export", "--beam", "4", "--out", filepath.Join(t.TempDir(), "m"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "give --lm") {
		t.Errorf("export --beam without --lm: %v", err)
	}
}

// asrProcessEnv, when set, makes TestHelperASRProcess run the asr command
// line given in it (arguments separated by newlines) and exit: tests start
// real asr processes this way and signal or kill them.
const asrProcessEnv = "ASRKIT_TEST_ASR_ARGS"

func TestHelperASRProcess(t *testing.T) {
	args := os.Getenv(asrProcessEnv)
	if args == "" {
		t.Skip("helper process for the signal and kill tests")
	}
	app := newApp()
	if err := app.Run(reorderArgs(app, append([]string{"asr"}, strings.Split(args, "\n")...))); err != nil {
		fmt.Fprintln(os.Stderr, "asr:", err)
		os.Exit(exitCode(err))
	}
	os.Exit(0)
}

// startASR starts a real asr process and returns it with a reader of its
// stderr.
func startASR(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperASRProcess$")
	cmd.Env = append(os.Environ(), asrProcessEnv+"="+strings.Join(args, "\n"))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stderr), &stdout
}

// waitFor reads stderr lines until one contains s.
func waitFor(t *testing.T, sc *bufio.Scanner, s string) {
	t.Helper()
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return
		}
	}
	t.Fatalf("the process ended before printing %q", s)
}

// TestTrainSIGTERMSavesAndExitsZero: SIGTERM in the middle of training
// finishes the step, saves a checkpoint, and exits with status 0.
func TestTrainSIGTERMSavesAndExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training process")
	}
	cfg, run := trainConfig(t, "  steps: 400\n  eval_every: -1\n")
	cmd, sc, stdout := startASR(t, "train", "--config", cfg)
	waitFor(t, sc, "msg=train step=4 ")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("asr train after SIGTERM: %v\n%s", err, rest.String())
	}
	if !strings.Contains(stdout.String(), "stopped at step") || !strings.Contains(rest.String(), "state=stopped") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, rest.String())
	}
	ck, err := checkpoint.Latest(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := ck.Manifest.Step; s < 4 || s >= 400 {
		t.Errorf("checkpoint after SIGTERM at step %d", s)
	}
}

// TestTrainDoubleSIGTERMStillSaves: GNU timeout sends SIGTERM to the
// process and to its process group, so a trainer can get two SIGTERMs at
// once; a terminal's Ctrl+C pressed twice in a hurry does the same. A
// repeat within the grace interval is the same request: the trainer still
// finishes its step, saves and exits with status 0.
func TestTrainDoubleSIGTERMStillSaves(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training process")
	}
	cfg, run := trainConfig(t, "  steps: 400\n  eval_every: -1\n")
	cmd, sc, stdout := startASR(t, "train", "--config", cfg)
	waitFor(t, sc, "msg=train step=4 ")
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGTERM, syscall.SIGINT} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("asr train after two SIGTERMs and a SIGINT at once: %v (it should have saved and exited 0)\n%s", err, rest.String())
	}
	if !strings.Contains(stdout.String(), "stopped at step") || !strings.Contains(rest.String(), "state=stopped") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, rest.String())
	}
	if ck, err := checkpoint.Latest(run, nil); err != nil || ck.Manifest.Step < 4 {
		t.Errorf("checkpoint after the signals: %v, %v", ck, err)
	}
}

// TestTrainKill9: a real training process that saves a checkpoint every
// step is killed with SIGKILL at random moments, again and again. After
// every kill the newest checkpoint must load, no damaged checkpoint may be
// visible, and the next process must resume from the newest one.
func TestTrainKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills training processes")
	}
	cfg, run := trainConfig(t, "  steps: 10000\n  eval_every: -1\ncheckpoint:\n  every: 1\n  keep: 2\n")
	r := rand.New(rand.NewPCG(3, 4))
	last := int64(0)
	for round := 1; round <= 6; round++ {
		cmd, sc, _ := startASR(t, "train", "--config", cfg)
		// Wait until it has saved a checkpoint of its own (so that even a
		// loaded machine makes progress every round), then kill it a random
		// while later: saves take a good share of each step here. The
		// instants inside a save are covered deterministically by
		// asr/checkpoint's TestKillDuringSave.
		waitFor(t, sc, "msg=checkpoint ")
		go io.Copy(io.Discard, drain(sc))
		time.Sleep(time.Duration(200+r.IntN(1500)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		list, err := checkpoint.List(run)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range list {
			if info.Err != nil {
				t.Fatalf("round %d: a damaged checkpoint is visible: %v", round, info.Err)
			}
		}
		ck, err := checkpoint.Latest(run, nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := ck.NewLoader(true); err != nil {
			t.Fatalf("round %d: newest checkpoint does not load: %v", round, err)
		}
		s := ck.Manifest.Step
		if s < last {
			t.Fatalf("round %d: newest checkpoint went back from step %d to %d", round, last, s)
		}
		t.Logf("round %d: killed at step %d or after", round, s)
		last = s
	}
	// A last process resumes from the newest checkpoint and stops cleanly.
	out, err := runCmd(t, []string{"train"}, "train", "--config", cfg, "--stop-at", fmt.Sprint(last+2))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, fmt.Sprintf("stopped at step %d", last+2)) {
		t.Errorf("resume after the kills:\n%s", out)
	}
}

// drain turns the rest of a scanner into a reader, so the child never
// blocks on a full stderr pipe.
func drain(sc *bufio.Scanner) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for sc.Scan() {
			pw.Write(append(sc.Bytes(), '\n'))
		}
		pw.Close()
	}()
	return pr
}

// TestGPUSmokeScript checks scripts/gpu-smoke.sh with shellcheck and runs
// it on the CPU (SMOKE_BACKEND=go, a few steps of tiny), with this test
// binary standing in for the asr binary.
func TestGPUSmokeScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training process")
	}
	root := testutil.Root(t)
	script := filepath.Join(root, "scripts", "gpu-smoke.sh")
	sc := testutil.RequireTool(t, "shellcheck")
	if out, err := exec.Command(sc, script).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
	testutil.RequireTool(t, "python3")
	// A stand-in "asr" binary: this test binary running TestHelperASRProcess.
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "asr")
	body := fmt.Sprintf("#!/bin/sh\n%s=\"$(printf '%%s\\n' \"$@\")\"\nexport %s\nexec %q -test.run='^TestHelperASRProcess$'\n",
		asrProcessEnv, asrProcessEnv, os.Args[0])
	if err := os.WriteFile(wrapper, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, wrapper, "-")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SMOKE_BACKEND=go", "SMOKE_PRESET=tiny", "SMOKE_STEPS=6", "SMOKE_COPIES=1",
		"SMOKE_MAX_FRAMES=1200", "SMOKE_OUT="+filepath.Join(dir, "out"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu-smoke.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"== compile time per batch shape", "train  batch", "== steady state", "audio-s/s", "== loss curve", "step     6", "== eval at step 6", "== gpu-smoke: done"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without a plugin and without SMOKE_BACKEND it refuses clearly.
	cmd = exec.Command(script, wrapper, "relative/plugin.so")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "must be absolute") {
		t.Errorf("relative plugin path: %v\n%s", err, out)
	}
}

// TestStopper: the first stop signal saves, repeats within the window are
// the same request, a signal after it quits.
func TestStopper(t *testing.T) {
	now := time.Unix(1000, 0)
	s := stopper{window: 2 * time.Second, now: func() time.Time { return now }}
	for _, tc := range []struct {
		after time.Duration // since the previous signal
		want  stopAction
	}{
		{0, stopSaving},
		{5 * time.Millisecond, stopRepeat},
		{time.Second, stopRepeat},
		{1500 * time.Millisecond, stopQuit}, // 2.5 s after the first
	} {
		now = now.Add(tc.after)
		if got := s.handle(); got != tc.want {
			t.Errorf("signal %v after the previous one: %v, want %v", tc.after, got, tc.want)
		}
	}
}
