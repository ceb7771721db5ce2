package backend

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// pluginDirs returns the directories searched for PJRT plugins by name, in
// order: PJRT_PLUGIN_LIBRARY_PATH when set, else go-xla's default places,
// then LD_LIBRARY_PATH.
func pluginDirs() []string {
	var dirs []string
	if p, ok := os.LookupEnv("PJRT_PLUGIN_LIBRARY_PATH"); ok {
		dirs = append(dirs, filepath.SplitList(p)...)
	} else {
		if home, err := os.UserHomeDir(); err == nil {
			goxla := filepath.Join(home, ".local", "lib", "go-xla")
			dirs = append(dirs, goxla, filepath.Join(goxla, "nvidia"), filepath.Join(home, ".local", "lib", "gomlx", "pjrt"))
		}
		dirs = append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia", "/usr/local/lib/gomlx/pjrt")
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))...)
	out := dirs[:0]
	for _, d := range dirs {
		if d != "" && filepath.IsAbs(d) && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// pluginFileNames are the file names go-xla recognises for a plugin name.
func pluginFileNames(name string) []string {
	return []string{"pjrt_c_api_" + name + "_plugin.so", "pjrt-plugin-" + name + ".so", "pjrt_plugin_" + name + ".so"}
}

// findPlugin searches the standard directories (and, for "cuda", pip JAX's
// site-packages) for the plugin called name. It returns the absolute path
// of the first regular file found and every place it looked.
func findPlugin(ctx context.Context, name string) (path string, searched []string) {
	for _, dir := range pluginDirs() {
		for _, file := range pluginFileNames(name) {
			p := filepath.Join(dir, file)
			searched = append(searched, p)
			if isFile(p) {
				return p, searched
			}
		}
	}
	if name != "cuda" {
		return "", searched
	}
	for _, site := range sitePackages(ctx) {
		for _, sub := range []string{"xla_cuda13", "xla_cuda12"} {
			p := filepath.Join(site, "jax_plugins", sub, "xla_cuda_plugin.so")
			searched = append(searched, p)
			if isFile(p) {
				return p, searched
			}
		}
	}
	return "", searched
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// sitePackages lists Python site-packages directories: $VIRTUAL_ENV's, then
// python3's own (asked with a 5-second limit; nothing when python3 is
// missing), then the usual system globs.
func sitePackages(ctx context.Context) []string {
	return listSitePackages(ctx, python, systemSitePackages)
}

// python is the interpreter asked for its site-packages; systemSitePackages
// are globs of the usual system locations. Variables so tests can isolate
// the search from the machine.
var (
	python             = "python3"
	systemSitePackages = []string{"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
		"/usr/lib/python3/dist-packages", "/opt/conda/lib/python3*/site-packages", "~/.local/lib/python3*/site-packages"}
)

func listSitePackages(ctx context.Context, python string, globs []string) []string {
	var dirs []string
	add := func(patterns ...string) {
		for _, pat := range patterns {
			m, _ := filepath.Glob(pat)
			dirs = append(dirs, m...)
		}
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		add(filepath.Join(venv, "lib", "python3*", "site-packages"))
	}
	if py, err := exec.LookPath(python); python != "" && err == nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, "-c",
			"import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)")
		cmd.Stderr = nil
		if out, err := cmd.Output(); err == nil {
			for _, line := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
				line = strings.TrimSpace(line)
				if base := filepath.Base(line); filepath.IsAbs(line) && (base == "site-packages" || base == "dist-packages") {
					dirs = append(dirs, line)
				}
			}
		}
	}
	home, _ := os.UserHomeDir()
	for _, g := range globs {
		if rest, ok := strings.CutPrefix(g, "~/"); ok {
			if home == "" {
				continue
			}
			g = filepath.Join(home, rest)
		}
		add(g)
	}
	out := dirs[:0]
	for _, d := range dirs {
		if !slices.Contains(out, d) && isDir(d) {
			out = append(out, d)
		}
	}
	return out
}

// cudaDataDir finds the CUDA toolkit directory XLA needs (the one holding
// nvvm/libdevice and bin/ptxas) for a CUDA plugin at pluginPath: the pip
// "nvidia" tree beside a JAX plugin, the nvidia/ tree of go-xla's
// installer, or /usr/local/cuda. It returns "" when there is none.
func cudaDataDir(pluginPath string) string {
	dir := filepath.Dir(pluginPath)
	var roots []string
	for _, up := range []string{".", "..", filepath.Join("..", "..")} {
		base := filepath.Clean(filepath.Join(dir, up))
		roots = append(roots, base, filepath.Join(base, "nvidia"))
	}
	var candidates []string
	for _, r := range roots {
		candidates = append(candidates, filepath.Join(r, "cu13"), filepath.Join(r, "cu12"), filepath.Join(r, "cuda_nvcc"), r)
	}
	candidates = append(candidates, "/usr/local/cuda")
	for _, c := range candidates {
		if isDir(filepath.Join(c, "nvvm", "libdevice")) {
			return c
		}
	}
	return ""
}

var distInfoRE = regexp.MustCompile(`^(jax_cuda1[0-9]_pjrt|jax_cuda1[0-9]_plugin|jaxlib)-([0-9][^-]*)\.dist-info$`)

// pluginPackageVersion returns the pip package and version that installed a
// JAX CUDA plugin (e.g. "jax_cuda13_pjrt 0.11.2"), or "" when unknown.
func pluginPackageVersion(pluginPath string) string {
	site := filepath.Clean(filepath.Join(filepath.Dir(pluginPath), "..", ".."))
	entries, err := os.ReadDir(site)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if m := distInfoRE.FindStringSubmatch(e.Name()); m != nil && strings.HasSuffix(m[1], "_pjrt") {
			return m[1] + " " + m[2]
		}
	}
	return ""
}

// hasNVIDIADevice reports whether the kernel exposes an NVIDIA GPU.
func hasNVIDIADevice() bool {
	m, _ := filepath.Glob("/dev/nvidia[0-9]*")
	return len(m) > 0
}
