//go:build cgo && !noxla

package backend

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// xlaCompiled reports whether this binary can load PJRT plugins (it needs
// cgo; the noxla build tag leaves XLA out).
const xlaCompiled = true

// GoMLX's XLA backend reads GOMLX_NO_AUTO_INSTALL when the program starts,
// before a CLI could set it: turn auto-install off here, so that no code path
// of a program that links this package (even GoMLX's own backends.New)
// downloads plugins.
func init() { xla.EnableAutoInstall(false) }

// cudaClientOptions returns the PJRT client options of a CUDA plugin: by
// default no preallocation, so that several processes share one GPU (the
// API server with its recognizer and a training child; CUDA PJRT plugins
// otherwise take 75% of the GPU's memory at start). The variables JAX uses
// for the same options override it: XLA_PYTHON_CLIENT_PREALLOCATE=true
// preallocates, XLA_PYTHON_CLIENT_MEM_FRACTION=0.9 caps the memory the
// process may use (a fraction of the GPU's).
func cudaClientOptions(gpu bool) (pjrt.NamedValuesMap, error) {
	if !gpu {
		return nil, nil
	}
	opts := pjrt.NamedValuesMap{"preallocate": false}
	if v, ok := os.LookupEnv("XLA_PYTHON_CLIENT_PREALLOCATE"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("XLA_PYTHON_CLIENT_PREALLOCATE=%q: want true or false", v)
		}
		opts["preallocate"] = b
	}
	if v := os.Getenv("XLA_PYTHON_CLIENT_MEM_FRACTION"); v != "" {
		f, err := strconv.ParseFloat(v, 32)
		if err != nil || f <= 0 || f > 1 {
			return nil, fmt.Errorf("XLA_PYTHON_CLIENT_MEM_FRACTION=%q: want a fraction in (0, 1]", v)
		}
		opts["memory_fraction"] = float32(f)
	}
	return opts, nil
}

// newXLA loads the PJRT plugin at the absolute path pluginPath and creates an
// XLA backend on it. Auto-install is disabled: nothing is downloaded.
func newXLA(ctx context.Context, info Info, pluginPath, options string) (b backends.Backend, _ Info, err error) {
	xla.EnableAutoInstall(false)
	info.Name = "xla"
	info.PluginPath = pluginPath
	info.PluginVersion = pluginPackageVersion(pluginPath)
	info.GPU = isCUDAPlugin(pluginPath)
	if info.GPU {
		if !hasNVIDIADevice() {
			return nil, info, fmt.Errorf("%w: CUDA plugin %s: no NVIDIA device found (/dev/nvidia*); in Docker, run with the NVIDIA runtime (--gpus all)",
				ErrUnavailable, pluginPath)
		}
		info.CUDADataDir = setCUDAEnv(pluginPath)
	}
	if err := ctx.Err(); err != nil {
		return nil, info, err
	}
	config := pluginPath
	if options != "" {
		config += "," + options
	}
	info.Config = config
	defer func() {
		// GoMLX and go-xla report some failures by panicking.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%w: loading PJRT plugin %s: %v", ErrUnavailable, pluginPath, r)
		}
	}()
	var xb *xla.Backend
	opts, optErr := cudaClientOptions(info.GPU)
	if optErr != nil {
		return nil, info, optErr
	}
	xb, err = xla.NewWithOptions(config, opts)
	if err != nil && len(opts) > 0 {
		// A plugin that does not know an option refuses to start: retry
		// with its defaults rather than give up the GPU.
		if xb2, err2 := xla.NewWithOptions(config, nil); err2 == nil {
			xb, err = xb2, nil
			info.ClientOptions = "plugin defaults (it refused " + fmt.Sprint(opts) + ")"
		}
	} else if err == nil && len(opts) > 0 {
		info.ClientOptions = fmt.Sprint(opts)
	}
	if err != nil {
		hint := ""
		if info.GPU {
			hint = " (if a CUDA library is missing, start the program with LD_LIBRARY_PATH naming the nvidia/*/lib directories installed with the plugin)"
		}
		return nil, info, fmt.Errorf("%w: loading PJRT plugin %s: %w%s", ErrUnavailable, pluginPath, err, hint)
	}
	if xb.NumDevices() == 0 {
		xb.Finalize()
		return nil, info, fmt.Errorf("%w: PJRT plugin %s sees no device", ErrUnavailable, pluginPath)
	}
	if plugin, err := pjrt.GetPlugin(pluginPath); err == nil {
		major, minor := plugin.Version()
		info.PJRTVersion = fmt.Sprintf("%d.%d", major, minor)
		for k, v := range plugin.Attributes() {
			info.PluginAttributes = append(info.PluginAttributes, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(info.PluginAttributes)
	}
	info.Description = xb.Description()
	info.Devices = devices(xb)
	for i, d := range info.Devices {
		info.Devices[i] = strings.TrimSpace(d)
	}
	return xb, info, nil
}
