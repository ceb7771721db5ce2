package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/asrkit/asrkit/internal/gomlxfix"
	"github.com/gomlx/gomlx/backends"
)

// Specs with a fixed meaning; see the package documentation for the rest.
const (
	SpecAuto = "auto"
	SpecGo   = "go"
	SpecCUDA = "xla:cuda"
)

// EnvVar is the environment variable consulted after the flag and the config
// file: GoMLX's own GOMLX_BACKEND.
const EnvVar = "GOMLX_BACKEND"

// GoConfig is the simplego configuration of the "go" spec: nodes run
// sequentially, so the executor cannot deadlock (see the package
// documentation); work inside a node still uses every core.
const GoConfig = "ops_sequential"

// ErrUnavailable is wrapped by the errors of [New] when the requested
// backend cannot be used on this machine (no plugin, no GPU, plugin fails to
// load or to create a client).
var ErrUnavailable = errors.New("backend unavailable")

// Source says where a spec came from.
type Source string

// Sources, in precedence order.
const (
	FromFlag    Source = "flag"
	FromConfig  Source = "config"
	FromEnv     Source = EnvVar
	FromDefault Source = "default"
)

// Resolve returns the spec to use: flag if not empty, else config (the
// train.backend key), else $GOMLX_BACKEND, else "auto"; and where it came
// from. Surrounding spaces are ignored.
func Resolve(flag, config string) (string, Source) {
	if s := strings.TrimSpace(flag); s != "" {
		return s, FromFlag
	}
	if s := strings.TrimSpace(config); s != "" {
		return s, FromConfig
	}
	if s := strings.TrimSpace(os.Getenv(EnvVar)); s != "" {
		return s, FromEnv
	}
	return SpecAuto, FromDefault
}

// Info describes a created backend.
type Info struct {
	// Spec is the spec New was given ("auto", "go", "xla:cuda", ...).
	Spec string
	// Name is the backend created: "go" or "xla".
	Name string
	// Config is what was passed to GoMLX's constructor: the simplego options,
	// or the plugin's absolute path.
	Config string
	// Description is GoMLX's description of the backend.
	Description string
	// Devices has one description per device.
	Devices []string
	// GPU is true for an XLA backend on a CUDA plugin.
	GPU bool
	// PluginPath is the PJRT plugin file (XLA only).
	PluginPath string
	// PluginVersion is the version of the pip package that installed the
	// plugin when known (e.g. "jax_cuda13_pjrt 0.11.2").
	PluginVersion string
	// PJRTVersion is the PJRT C API version the plugin reports (e.g. "0.83").
	PJRTVersion string
	// PluginAttributes are the attributes the plugin reports (XLA version,
	// StableHLO versions, ...), as "key=value" strings in key order.
	PluginAttributes []string
	// CUDADataDir is the CUDA toolkit directory given to XLA, when one was
	// found.
	CUDADataDir string
	// ClientOptions are the PJRT client options a CUDA plugin was created
	// with (preallocation, memory fraction), as text.
	ClientOptions string
	// Reason explains an "auto" choice, e.g. "no CUDA PJRT plugin found".
	Reason string
	// Fallback is set when "auto" found a CUDA plugin that it could not use
	// and fell back to the pure-Go backend: what went wrong (the caller
	// decides whether to warn; this package logs nothing).
	Fallback string
}

// String is a one-line summary, e.g. "go (auto: no CUDA PJRT plugin found)".
func (i Info) String() string {
	s := i.Name
	if i.Name == "xla" {
		s += ":" + i.PluginPath
		if i.PluginVersion != "" {
			s += " (" + i.PluginVersion + ")"
		}
	}
	if i.Spec == SpecAuto && i.Reason != "" {
		s += " (auto: " + i.Reason + ")"
	}
	return s
}

// New creates the backend named by spec (see the package documentation).
// Nothing is downloaded, and nothing is logged: Info says which backend
// "auto" chose and why (Reason); if a CUDA plugin is found but cannot be
// used, auto falls back to the pure-Go backend and Info.Fallback carries the
// error. An explicit XLA spec
// that cannot be used fails with an error wrapping [ErrUnavailable].
//
// Create one backend per process and share it: tensors belong to the
// backend that created them, and every XLA backend holds its own client and
// device memory.
func New(ctx context.Context, spec string) (backends.Backend, Info, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = SpecAuto
	}
	info := Info{Spec: spec}
	name, options, _ := strings.Cut(spec, ":")
	switch name {
	case SpecAuto:
		if options != "" {
			return nil, info, fmt.Errorf("backend spec %q: auto takes no options", spec)
		}
		return newAuto(ctx, info)
	case SpecGo:
		if options == "" {
			options = GoConfig
		}
		return newGo(info, options)
	case "xla":
		if options == "" {
			return nil, info, fmt.Errorf("backend spec %q: name a plugin, as in xla:cuda, xla:cpu or xla:/abs/path/plugin.so", spec)
		}
		path, opts, err := locatePlugin(ctx, options)
		if err != nil {
			return nil, info, fmt.Errorf("backend %q: %w", spec, err)
		}
		return newXLA(ctx, info, path, opts)
	default:
		return nil, info, fmt.Errorf("unknown backend spec %q: want auto, go, xla:cuda or xla:/absolute/path/to/plugin.so", spec)
	}
}

func newGo(info Info, options string) (backends.Backend, Info, error) {
	b, err := gomlxfix.NewGoBackend(options)
	if err != nil {
		return nil, info, fmt.Errorf("backend %q: %w", info.Spec, err)
	}
	info.Name = "go"
	info.Config = options
	info.Description = b.Description()
	info.Devices = devices(b)
	return b, info, nil
}

func newAuto(ctx context.Context, info Info) (backends.Backend, Info, error) {
	// Look for a device first: searching for plugins may ask python3 where its
	// packages are, which costs a few hundred milliseconds of every start-up.
	if !hasNVIDIADevice() {
		info.Reason = "no NVIDIA device (/dev/nvidia*)"
	} else {
		path, searched := findPlugin(ctx, "cuda")
		switch {
		case path == "":
			info.Reason = fmt.Sprintf("NVIDIA device found, but no CUDA PJRT plugin (searched %d places, e.g. %s)", len(searched), firstDirs(searched, 3))
		case !xlaCompiled:
			info.Reason = fmt.Sprintf("CUDA PJRT plugin %s found, but this binary was built without XLA support (cgo or the noxla tag)", path)
		default:
			b, xinfo, err := newXLA(ctx, info, path, "")
			if err == nil {
				xinfo.Reason = "CUDA PJRT plugin found: " + path
				return b, xinfo, nil
			}
			info.Reason = fmt.Sprintf("CUDA PJRT plugin %s found but unusable: %v", path, err)
			info.Fallback = info.Reason
		}
	}
	return newGo(info, GoConfig)
}

// locatePlugin turns the part of an xla spec after "xla:" into an absolute
// plugin path and plugin options ("shared_buffers", ...).
func locatePlugin(ctx context.Context, s string) (path, options string, err error) {
	target, options, _ := strings.Cut(s, ",")
	if filepath.IsAbs(target) {
		fi, err := os.Stat(target)
		switch {
		case err != nil:
			return "", "", fmt.Errorf("%w: PJRT plugin %s: %w", ErrUnavailable, target, err)
		case !fi.Mode().IsRegular():
			return "", "", fmt.Errorf("%w: PJRT plugin %s is not a regular file", ErrUnavailable, target)
		}
		return target, options, nil
	}
	if target == "" || strings.ContainsAny(target, `/\`) {
		return "", "", fmt.Errorf("plugin %q: give a plugin name (cuda, cpu) or an absolute path", target)
	}
	path, searched := findPlugin(ctx, target)
	if path == "" {
		hint := ""
		if target == "cuda" {
			hint = "; install one (pip install jax[cuda13], or go-xla's installer) or give its absolute path, e.g. --backend xla:/path/to/xla_cuda_plugin.so"
		}
		return "", "", fmt.Errorf("%w: no %q PJRT plugin found in %s%s", ErrUnavailable, target, firstDirs(searched, len(searched)), hint)
	}
	return path, options, nil
}

// firstDirs lists the distinct directories of up to n searched paths.
func firstDirs(paths []string, n int) string {
	var dirs []string
	for _, p := range paths {
		d := filepath.Dir(p)
		if len(dirs) > 0 && dirs[len(dirs)-1] == d {
			continue
		}
		if len(dirs) == n {
			dirs = append(dirs, "...")
			break
		}
		dirs = append(dirs, d)
	}
	return strings.Join(dirs, ", ")
}

func devices(b backends.Backend) []string {
	n := b.NumDevices()
	out := make([]string, n)
	for i := range n {
		out[i] = b.DeviceDescription(backends.DeviceNum(i))
	}
	return out
}

// setCUDAEnv prepares the environment for loading a CUDA plugin: the CUDA
// data directory in XLA_FLAGS (kept if already set), and GOPJRT_CUDA_CHECKS=0
// (unless set) so go-xla v0.1.4 does not point XLA at a path of its own.
func setCUDAEnv(pluginPath string) (dataDir string) {
	if _, ok := os.LookupEnv("GOPJRT_CUDA_CHECKS"); !ok {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
	flags := os.Getenv("XLA_FLAGS")
	if strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
		for _, f := range strings.Fields(flags) {
			if v, ok := strings.CutPrefix(f, "--xla_gpu_cuda_data_dir="); ok {
				return v
			}
		}
		return ""
	}
	dataDir = cudaDataDir(pluginPath)
	if dataDir != "" {
		_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" --xla_gpu_cuda_data_dir="+dataDir))
	}
	return dataDir
}

func isCUDAPlugin(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return strings.Contains(base, "cuda") || strings.Contains(base, "nvidia") || strings.Contains(strings.ToLower(path), "/nvidia/")
}
