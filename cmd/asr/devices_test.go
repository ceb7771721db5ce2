package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runDevices runs "asr devices ARGS..." through an app holding only that
// command, with trailing flags handled as in main.
func runDevices(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var cmd *cli.Command
	for _, c := range commands {
		if c.Name == "devices" {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatal("no devices command registered")
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "asr", Commands: []*cli.Command{cmd}, Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {}}
	err := app.Run(reorderArgs(app, append([]string{"asr", "devices"}, args...)))
	return out.String(), err
}

func TestDevicesGo(t *testing.T) {
	out, err := runDevices(t, "--backend", "go", "--size", "64", "--time", "10ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backend:        go", "spec:           go (from flag)", "device 0:", "matmul:         64x64 float32:", "GFLOP/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDevicesJSONFromEnv(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	out, err := runDevices(t, "--json", "--size", "32", "--time", "1ms")
	if err != nil {
		t.Fatal(err)
	}
	var rep devicesReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Backend != "go" || rep.SpecSource != "GOMLX_BACKEND" || rep.Matmul == nil || rep.Matmul.GFLOPS <= 0 || len(rep.Devices) != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestDevicesFailsWhenGPUUnusable(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir) // nothing there
	t.Setenv("LD_LIBRARY_PATH", "")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--backend", "xla:/nonexistent/xla_cuda_plugin.so"}, []string{"backend unavailable", "/nonexistent/xla_cuda_plugin.so", "no such file"}},
		{[]string{"--backend", "go", "--require-gpu"}, []string{"--require-gpu", "no GPU backend"}},
		{[]string{"--backend", "tpu"}, []string{"unknown backend spec"}},
	} {
		_, err := runDevices(t, append(tc.args, "--size", "0")...)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", tc.args, err, w)
			}
		}
	}
}
