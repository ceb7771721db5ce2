package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/asrkit/asrkit/internal/backend"
)

func init() {
	commands = append(commands, &cli.Command{
		Name:  "devices",
		Usage: "show the compute backend and its devices, and time a matrix multiplication",
		Description: "Creates the backend that training and transcription would use (--backend, else\n" +
			"$GOMLX_BACKEND, else auto), prints it with its devices and PJRT plugin, and times\n" +
			"an NxN float32 matrix multiplication in GFLOP/s. Nothing is downloaded.\n\n" +
			"Backends: auto (XLA CUDA when a CUDA PJRT plugin and a GPU are found, else the\n" +
			"pure-Go backend), go, xla:cuda, xla:/absolute/path/to/plugin.so.\n\n" +
			"Exits with status 1 and the reason when an XLA backend was asked for and cannot\n" +
			"be used, or when --require-gpu is given and no GPU backend was selected; this is\n" +
			"the deployment's GPU check.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backend", Usage: "backend spec: auto, go, xla:cuda or xla:/abs/plugin.so (default: $GOMLX_BACKEND, else auto)"},
			&cli.BoolFlag{Name: "require-gpu", Usage: "fail unless a GPU (XLA CUDA) backend is selected"},
			&cli.IntFlag{Name: "size", Usage: "matrix size N of the timed multiplication (default 1024 on CPU, 8192 on GPU; 0 skips it)", Value: -1},
			&cli.DurationFlag{Name: "time", Usage: "minimum time to spend timing the multiplication", Value: time.Second},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON object instead of text"},
		},
		Action: func(c *cli.Context) error {
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
			defer stop()
			return devices(ctx, c.App.Writer, devicesOptions{
				backend:    c.String("backend"),
				requireGPU: c.Bool("require-gpu"),
				size:       c.Int("size"),
				minTime:    c.Duration("time"),
				json:       c.Bool("json"),
			})
		},
	})
}

type devicesOptions struct {
	backend    string
	requireGPU bool
	size       int // -1: default for the backend
	minTime    time.Duration
	json       bool
}

// devicesReport is what "asr devices --json" prints.
type devicesReport struct {
	Spec             string   `json:"spec"`
	SpecSource       string   `json:"spec_source"`
	Backend          string   `json:"backend"`
	Reason           string   `json:"reason,omitempty"`
	Description      string   `json:"description"`
	Devices          []string `json:"devices"`
	GPU              bool     `json:"gpu"`
	PluginPath       string   `json:"plugin_path,omitempty"`
	PluginVersion    string   `json:"plugin_version,omitempty"`
	PJRTVersion      string   `json:"pjrt_api_version,omitempty"`
	PluginAttributes []string `json:"plugin_attributes,omitempty"`
	CUDADataDir      string   `json:"cuda_data_dir,omitempty"`
	ClientOptions    string   `json:"client_options,omitempty"`
	Matmul           *struct {
		N        int     `json:"n"`
		GFLOPS   float64 `json:"gflops"`
		PerRunMS float64 `json:"per_run_ms"`
		Runs     int     `json:"runs"`
		FirstMS  float64 `json:"first_run_ms"`
	} `json:"matmul,omitempty"`
}

func devices(ctx context.Context, w io.Writer, o devicesOptions) error {
	spec, source := backend.Resolve(o.backend, "")
	b, info, err := backend.New(ctx, spec)
	if err != nil {
		return fmt.Errorf("%w (spec from %s)", err, source)
	}
	defer b.Finalize()
	if o.requireGPU && !info.GPU {
		why := info.Reason
		if why == "" {
			why = "backend " + info.Name + " selected"
		}
		return fmt.Errorf("--require-gpu: no GPU backend (%s)", why)
	}

	rep := devicesReport{
		Spec: spec, SpecSource: string(source), Backend: info.Name, Reason: info.Reason,
		Description: info.Description, Devices: info.Devices, GPU: info.GPU,
		PluginPath: info.PluginPath, PluginVersion: info.PluginVersion, PJRTVersion: info.PJRTVersion,
		PluginAttributes: info.PluginAttributes, CUDADataDir: info.CUDADataDir, ClientOptions: info.ClientOptions,
	}
	size := o.size
	if size < 0 {
		size = 1024
		if info.GPU {
			size = 8192
		}
	}
	if size > 0 {
		res, err := backend.BenchmarkMatmul(ctx, b, size, o.minTime)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			return fmt.Errorf("backend %s is not usable: timing a %dx%d matmul: %w", info.Name, size, size, err)
		}
		rep.Matmul = &struct {
			N        int     `json:"n"`
			GFLOPS   float64 `json:"gflops"`
			PerRunMS float64 `json:"per_run_ms"`
			Runs     int     `json:"runs"`
			FirstMS  float64 `json:"first_run_ms"`
		}{res.N, res.GFLOPS, ms(res.PerRun), res.Runs, ms(res.Compile)}
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printDevices(w, rep)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func printDevices(w io.Writer, r devicesReport) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-15s %s\n", k+":", v)
		}
	}
	line("backend", r.Backend)
	line("spec", fmt.Sprintf("%s (from %s)", r.Spec, r.SpecSource))
	line("reason", r.Reason)
	line("description", r.Description)
	for i, d := range r.Devices {
		line(fmt.Sprintf("device %d", i), d)
	}
	line("plugin", r.PluginPath)
	line("plugin version", r.PluginVersion)
	line("PJRT C API", r.PJRTVersion)
	if len(r.PluginAttributes) > 0 {
		line("plugin attrs", strings.Join(r.PluginAttributes, " "))
	}
	line("CUDA data dir", r.CUDADataDir)
	line("client options", r.ClientOptions)
	if m := r.Matmul; m != nil {
		line("matmul", fmt.Sprintf("%dx%d float32: %.1f GFLOP/s (%.3f ms per run, %d runs; first run %.0f ms incl. compile)",
			m.N, m.N, m.GFLOPS, m.PerRunMS, m.Runs, m.FirstMS))
	}
}
