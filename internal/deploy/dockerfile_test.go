package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd   string // upper case: FROM, ENV, ...
	args  string
	stage string // the stage's name ("" before the first FROM)
}

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	stage := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage = ""
			if f := strings.Fields(args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stage = f[2]
			}
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// envs returns the variables set by ENV instructions of a stage, in order
// (later values win).
func envs(ins []instruction, stage string) map[string]string {
	m := map[string]string{}
	re := regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)`)
	for _, in := range ins {
		if in.cmd == "ENV" && in.stage == stage {
			for _, kv := range re.FindAllStringSubmatch(in.args, -1) {
				m[kv[1]] = strings.Trim(kv[2], `"`)
			}
		}
	}
	return m
}

// argDefault returns the default of ARG name in a stage ("" = before any FROM).
func argDefault(ins []instruction, stage, name string) (string, bool) {
	for _, in := range ins {
		if in.cmd == "ARG" && in.stage == stage {
			if k, v, ok := strings.Cut(in.args, "="); ok && k == name {
				return v, true
			}
		}
	}
	return "", false
}

func TestDockerfileStages(t *testing.T) {
	ins := readDockerfile(t)
	// Base images are build arguments, declared before the first FROM.
	for _, a := range []string{"BUILD_IMAGE", "RUNTIME_IMAGE", "CUDA_IMAGE", "WITH_CUDA"} {
		if _, ok := argDefault(ins, "", a); !ok {
			t.Errorf("no global ARG %s", a)
		}
	}
	var froms []string
	for _, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in.args)
		}
	}
	want := []string{"${BUILD_IMAGE} AS build", "${CUDA_IMAGE} AS cuda-1", "${RUNTIME_IMAGE} AS cuda-0",
		"cuda-${WITH_CUDA} AS cuda", "${RUNTIME_IMAGE} AS base", "base AS runtime-cuda-1", "base AS runtime-cuda-0",
		"runtime-cuda-${WITH_CUDA}"}
	if !slices.Equal(froms, want) {
		t.Errorf("stages:\n got %q\nwant %q", froms, want)
	}
	// The build has cgo on; the final image runs asr as a non-root user.
	if v := envs(ins, "build")["CGO_ENABLED"]; v != "1" {
		t.Errorf("build stage CGO_ENABLED=%q, want 1: go-xla loads PJRT plugins through cgo", v)
	}
	var user, entry string
	for _, in := range ins {
		if in.stage == "" && in.cmd == "USER" {
			user = in.args
		}
		if in.stage == "" && in.cmd == "ENTRYPOINT" {
			entry = in.args
		}
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("final stage USER %q, want a non-root user", user)
	}
	if entry != `["asr"]` {
		t.Errorf("ENTRYPOINT %s, want [\"asr\"]", entry)
	}
	if v := envs(ins, "base")["GOMLX_NO_AUTO_INSTALL"]; v != "1" {
		t.Errorf("GOMLX_NO_AUTO_INSTALL=%q in the runtime, want 1", v)
	}
	if v := envs(ins, "runtime-cuda-0")["GOMLX_BACKEND"]; v != "go" {
		t.Errorf("without CUDA GOMLX_BACKEND=%q, want go", v)
	}
}

// The CUDA image: a pinned plugin, found by absolute path, with the CUDA
// libraries on LD_LIBRARY_PATH exactly as the build-time check saw them.
func TestDockerfileCUDA(t *testing.T) {
	ins := readDockerfile(t)
	version, _ := argDefault(ins, "cuda-1", "JAX_CUDA_VERSION")
	if !regexp.MustCompile(`^0\.[0-9]+\.[0-9]+$`).MatchString(version) {
		t.Errorf("JAX_CUDA_VERSION=%q, want a pinned 0.x.y", version)
	}
	var pip string
	for _, in := range ins {
		if in.stage == "cuda-1" && in.cmd == "RUN" && strings.Contains(in.args, "pip install") {
			pip = in.args
		}
	}
	for _, pkg := range []string{`"jax-cuda13-pjrt==${JAX_CUDA_VERSION}"`, `"jax-cuda13-plugin[with-cuda]==${JAX_CUDA_VERSION}"`} {
		if !strings.Contains(pip, pkg) {
			t.Errorf("pip install does not pin %s: %s", pkg, pip)
		}
	}
	site, _ := argDefault(ins, "cuda-1", "CUDA_SITE")
	if site2, _ := argDefault(ins, "runtime-cuda-1", "CUDA_SITE"); site == "" || site != site2 {
		t.Errorf("CUDA_SITE %q in the cuda stage, %q in the runtime: want one path", site, site2)
	}
	build, run := envs(ins, "cuda-1"), envs(ins, "runtime-cuda-1")
	if build["LD_LIBRARY_PATH"] == "" || build["LD_LIBRARY_PATH"] != run["LD_LIBRARY_PATH"] {
		t.Errorf("LD_LIBRARY_PATH checked at build time:\n %q\nset at run time:\n %q", build["LD_LIBRARY_PATH"], run["LD_LIBRARY_PATH"])
	}
	for _, d := range strings.Split(run["LD_LIBRARY_PATH"], ":") {
		if !strings.HasPrefix(d, "${CUDA_SITE}/nvidia/") || !strings.HasSuffix(d, "/lib") {
			t.Errorf("LD_LIBRARY_PATH entry %q is not a pip nvidia/*/lib folder", d)
		}
	}
	if got, want := run["GOMLX_BACKEND"], "xla:${CUDA_SITE}/jax_plugins/xla_cuda13/xla_cuda_plugin.so"; got != want {
		t.Errorf("GOMLX_BACKEND=%q, want %q (the plugin by absolute path)", got, want)
	}
	if got, want := run["XLA_FLAGS"], "--xla_gpu_cuda_data_dir=${CUDA_SITE}/nvidia/cu13"; got != want {
		t.Errorf("XLA_FLAGS=%q, want %q (libdevice and ptxas)", got, want)
	}
	// asr finds a plugin by name (xla:cuda, auto) only in site-packages that
	// internal/backend searches: /usr/local/lib/python3*/dist-packages.
	if ok, _ := filepath.Match("/usr/local/lib/python3*/dist-packages", site); !ok {
		t.Errorf("CUDA_SITE=%q is not where asr looks for pip's CUDA plugin", site)
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	for _, p := range []string{"data", "checkpoints", "models", "runs", ".git", ".env"} {
		if !slices.Contains(pats, p) {
			t.Errorf(".dockerignore does not keep %s out of the build context", p)
		}
	}
	// What the build needs must stay in.
	for _, p := range pats {
		for _, need := range []string{"go.mod", "go.sum", "cmd/asr/main.go", "asr/data/doc.go", "examples/configs/ljspeech-gpu.yaml", "scripts/docker/check_cuda_tree.sh"} {
			if ok, _ := filepath.Match(p, need); ok || p == need || strings.HasPrefix(need, p+"/") {
				t.Errorf(".dockerignore pattern %q excludes %s, which the build needs", p, need)
			}
		}
	}
}

// The image's default config trains on the data volume and writes to the
// checkpoint volume.
func TestDefaultConfigUsesTheVolumes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "examples", "configs", "ljspeech-gpu.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Datasets struct {
			LJSpeech struct{ Path string } `yaml:"ljspeech"`
			CacheDir string                `yaml:"cache_dir"`
		}
		Checkpoint struct{ Dir string }
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Datasets.LJSpeech.Path != "/app/data/LJSpeech-1.1" {
		t.Errorf("datasets.ljspeech.path = %q, want /app/data/LJSpeech-1.1", cfg.Datasets.LJSpeech.Path)
	}
	for k, v := range map[string]string{"datasets.cache_dir": cfg.Datasets.CacheDir, "checkpoint.dir": cfg.Checkpoint.Dir} {
		if !strings.HasPrefix(v, "/app/checkpoints/") {
			t.Errorf("%s = %q, want under the /app/checkpoints volume (kept across redeploys)", k, v)
		}
	}
	ins := readDockerfile(t)
	copied := false
	for _, in := range ins {
		copied = copied || (in.cmd == "COPY" && in.args == "examples/configs /app/examples/configs")
	}
	if !copied {
		t.Error("the Dockerfile does not copy examples/configs to /app/examples/configs")
	}
}
