package backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asrkit/asrkit/internal/gomlxfix"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// isolate makes the plugin search see only dir (and no Python).
func isolate(t *testing.T, dir string) {
	t.Helper()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("VIRTUAL_ENV", "")
	oldPy, oldSys := python, systemSitePackages
	python, systemSitePackages = "", nil
	t.Cleanup(func() { python, systemSitePackages = oldPy, oldSys })
}

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolvePrecedence(t *testing.T) {
	tests := []struct {
		flag, config, env string
		want              string
		source            Source
	}{
		{"go", "xla:cuda", "xla:cpu", "go", FromFlag},
		{"", "xla:cuda", "go", "xla:cuda", FromConfig},
		{"", "  ", "go:ops_sequential", "go:ops_sequential", FromEnv},
		{"", "", "", "auto", FromDefault},
		{" auto ", "go", "", "auto", FromFlag},
	}
	for _, tc := range tests {
		t.Setenv(EnvVar, tc.env)
		got, src := Resolve(tc.flag, tc.config)
		if got != tc.want || src != tc.source {
			t.Errorf("Resolve(%q, %q) with %s=%q = %q, %s; want %q, %s", tc.flag, tc.config, EnvVar, tc.env, got, src, tc.want, tc.source)
		}
	}
}

func TestNewGo(t *testing.T) {
	b, info, err := New(context.Background(), "go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if !gomlxfix.IsFixed(b) {
		t.Error("go backend is not the fixed pure-Go backend")
	}
	if info.Name != "go" || info.Config != GoConfig || len(info.Devices) != 1 || info.GPU {
		t.Errorf("info = %+v", info)
	}
}

func TestAutoWithoutPluginIsGo(t *testing.T) {
	isolate(t, t.TempDir())
	b, info, err := New(context.Background(), "auto")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	want := "no NVIDIA device"
	if hasNVIDIADevice() {
		want = "no CUDA PJRT plugin"
	}
	if info.Name != "go" || !strings.Contains(info.Reason, want) {
		t.Errorf("info = %+v, want a reason with %q", info, want)
	}
	if !strings.Contains(info.String(), "auto: "+want) {
		t.Errorf("String() = %q", info.String())
	}
}

func TestAutoWithPluginButNoGPUIsGo(t *testing.T) {
	if hasNVIDIADevice() {
		t.Skip("this machine has an NVIDIA device")
	}
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"))
	isolate(t, dir)
	b, info, err := New(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	// Without a device, auto does not even search for plugins.
	if info.Name != "go" || !strings.Contains(info.Reason, "no NVIDIA device") {
		t.Errorf("info = %+v", info)
	}
}

func TestExplicitSpecErrors(t *testing.T) {
	dir := t.TempDir()
	isolate(t, dir)
	fakeCPU := touch(t, filepath.Join(dir, "other", "pjrt_c_api_fake_plugin.so"))
	fakeCUDA := touch(t, filepath.Join(dir, "other", "xla_cuda_plugin.so"))
	tests := []struct {
		spec        string
		unavailable bool
		contains    []string
	}{
		{"xla:/nonexistent/xla_cuda_plugin.so", true, []string{"/nonexistent/xla_cuda_plugin.so", "no such file"}},
		{"xla:" + dir, true, []string{"not a regular file"}},
		{"xla:cuda", true, []string{`no "cuda" PJRT plugin found`, dir, "absolute path"}},
		{"xla:cpu", true, []string{`no "cpu" PJRT plugin found`}},
		{"xla:" + fakeCPU, true, []string{fakeCPU}},
		{"xla", false, []string{"name a plugin"}},
		{"xla:relative/plugin.so", false, []string{"absolute path"}},
		{"tpu", false, []string{"unknown backend spec"}},
		{"auto:fast", false, []string{"no options"}},
		{"go:no_such_option", false, []string{"no_such_option"}},
	}
	if !hasNVIDIADevice() && xlaCompiled {
		tests = append(tests, struct {
			spec        string
			unavailable bool
			contains    []string
		}{"xla:" + fakeCUDA, true, []string{"no NVIDIA device"}})
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			b, _, err := New(context.Background(), tc.spec)
			if err == nil {
				b.Finalize()
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v: %v", got, err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestPluginDiscoveryLayouts(t *testing.T) {
	t.Run("pip JAX in a virtualenv", func(t *testing.T) {
		root := t.TempDir()
		isolate(t, filepath.Join(root, "empty"))
		site := filepath.Join(root, "venv", "lib", "python3.12", "site-packages")
		plugin := touch(t, filepath.Join(site, "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so"))
		touch(t, filepath.Join(site, "nvidia", "cu13", "nvvm", "libdevice", "libdevice.10.bc"))
		touch(t, filepath.Join(site, "jax_cuda13_pjrt-0.11.2.dist-info", "METADATA"))
		t.Setenv("VIRTUAL_ENV", filepath.Join(root, "venv"))
		got, _ := findPlugin(context.Background(), "cuda")
		if got != plugin {
			t.Fatalf("findPlugin = %q, want %q", got, plugin)
		}
		if d := cudaDataDir(plugin); d != filepath.Join(site, "nvidia", "cu13") {
			t.Errorf("cudaDataDir = %q", d)
		}
		if v := pluginPackageVersion(plugin); v != "jax_cuda13_pjrt 0.11.2" {
			t.Errorf("pluginPackageVersion = %q", v)
		}
	})
	t.Run("go-xla installer", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("HOME", home)
		isolate(t, "")
		os.Unsetenv("PJRT_PLUGIN_LIBRARY_PATH") // isolate's t.Setenv restores it
		nv := filepath.Join(home, ".local", "lib", "go-xla", "nvidia")
		plugin := touch(t, filepath.Join(nv, "pjrt_c_api_cuda_plugin.so"))
		touch(t, filepath.Join(nv, "cu13", "nvvm", "libdevice", "libdevice.10.bc"))
		got, _ := findPlugin(context.Background(), "cuda")
		if got != plugin {
			t.Fatalf("findPlugin = %q, want %q", got, plugin)
		}
		if d := cudaDataDir(plugin); d != filepath.Join(nv, "cu13") {
			t.Errorf("cudaDataDir = %q", d)
		}
	})
}

func TestSetCUDAEnv(t *testing.T) {
	root := t.TempDir()
	plugin := touch(t, filepath.Join(root, "site", "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so"))
	touch(t, filepath.Join(root, "site", "nvidia", "cu13", "nvvm", "libdevice", "libdevice.10.bc"))
	want := filepath.Join(root, "site", "nvidia", "cu13")

	t.Setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
	t.Setenv("GOPJRT_CUDA_CHECKS", "")
	os.Unsetenv("GOPJRT_CUDA_CHECKS") // t.Setenv restores it
	if got := setCUDAEnv(plugin); got != want {
		t.Errorf("data dir %q, want %q", got, want)
	}
	if f := os.Getenv("XLA_FLAGS"); f != "--xla_dump_to=/tmp/x --xla_gpu_cuda_data_dir="+want {
		t.Errorf("XLA_FLAGS = %q", f)
	}
	if os.Getenv("GOPJRT_CUDA_CHECKS") != "0" {
		t.Error("GOPJRT_CUDA_CHECKS not set to 0")
	}
	// A data dir chosen by the user is kept.
	t.Setenv("XLA_FLAGS", "--xla_gpu_cuda_data_dir=/opt/cuda")
	if got := setCUDAEnv(plugin); got != "/opt/cuda" || os.Getenv("XLA_FLAGS") != "--xla_gpu_cuda_data_dir=/opt/cuda" {
		t.Errorf("user's XLA_FLAGS changed: %q, %q", got, os.Getenv("XLA_FLAGS"))
	}
}

// deadlockProne is a gradient with twelve batched matrix products side by
// side: on the stock executor each product waits for a worker slot while
// the other products hold them all.
func deadlockProne(x *Node) *Node {
	var loss *Node
	for i := range 12 {
		y := DotGeneral(AddScalar(x, float64(i)), []int{2}, []int{0}, x, []int{2}, []int{0})
		p := ReduceAllSum(Mul(y, y))
		if loss == nil {
			loss = p
		} else {
			loss = Add(loss, p)
		}
	}
	return Gradient(loss, x)[0]
}

// runWithin runs the deadlock-prone gradient n times on b and reports whether
// it finished within limit. A hung run leaves a blocked goroutine behind,
// which costs nothing.
func runWithin(t *testing.T, b backends.Backend, n int, limit time.Duration) bool {
	t.Helper()
	e, err := NewExec(b, deadlockProne)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		x := tensors.FromFlatDataAndDimensions(make([]float32, 8*32*16), 8, 32, 16)
		for range n {
			if _, err := e.Exec(x); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(limit):
		return false
	}
}

// TestGoBackendCannotDeadlock runs a graph that deadlocks GoMLX's default
// pure-Go executor. The "go" spec must finish it, even with a worker pool of
// two slots; the stock configuration with the same pool is shown to hang
// (detected with a timeout, so the test never hangs itself).
func TestGoBackendCannotDeadlock(t *testing.T) {
	for _, spec := range []string{"go", "go:" + GoConfig + ",parallelism=1"} {
		b, _, err := New(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if !runWithin(t, b, 5, 2*time.Minute) {
			t.Fatalf("%s: executor deadlocked (no result within 2 minutes)", spec)
		}
	}

	stock, err := simplego.New("parallelism=1")
	if err != nil {
		t.Fatal(err)
	}
	if runWithin(t, gomlxfix.Wrap(stock), 5, 5*time.Second) {
		t.Log("the stock executor did not deadlock this time (scheduling-dependent)")
	} else {
		t.Log("the stock executor deadlocked, as expected")
	}
}

func TestBenchmarkMatmul(t *testing.T) {
	b, _, err := New(context.Background(), "go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	res, err := BenchmarkMatmul(context.Background(), b, 64, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs < 3 || res.GFLOPS <= 0 || res.PerRun <= 0 {
		t.Errorf("result %+v", res)
	}
	if _, err := BenchmarkMatmul(context.Background(), b, 0, 0); err == nil {
		t.Error("size 0 accepted")
	}
}
