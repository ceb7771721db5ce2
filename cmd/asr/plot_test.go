package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plotRun writes a run directory whose train.jsonl has steps steps of
// falling loss and an evaluation every 20.
func plotRun(t *testing.T, dir string, steps int) string {
	t.Helper()
	var b strings.Builder
	for s := 5; s <= steps; s += 5 {
		fmt.Fprintf(&b, `{"type": "metrics", "step": %d, "total_steps": %d, "metrics": {"loss": %g, "learning_rate": 0.001, "grad_norm": 2.5, "audio_seconds_per_second": 90}}`+"\n", s, steps, 3/float64(s))
		if s%20 == 0 {
			fmt.Fprintf(&b, `{"type": "eval", "step": %d, "eval": {"step": %d, "wer": %g, "cer": %g, "loss": 0.5}}`+"\n", s, s, 10/float64(s), 4/float64(s))
		}
	}
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	a := plotRun(t, filepath.Join(dir, "a"), 100)
	b := plotRun(t, filepath.Join(dir, "b"), 60)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "train.jsonl"), []byte(`{"type": "state", "step": 0, "state": {"state": "preparing"}}`+"\n"), 0o644)
	out := filepath.Join(dir, "curves.png")
	for _, tt := range []struct {
		name string
		args []string
		want string // in the error; "" for success
	}{
		{"two runs", []string{"plot", "--out", out, a, b}, ""},
		{"flags after the runs", []string{"plot", a, "--out", out, "--log", "--panels", "loss,wer"}, ""},
		{"svg", []string{"plot", "--out", filepath.Join(dir, "c.svg"), a}, ""},
		{"no runs", []string{"plot", "--out", out}, "name one or more run directories"},
		{"no --out", []string{"plot", a}, "out"},
		{"bad extension", []string{"plot", "--out", filepath.Join(dir, "c.jpg"), a}, "must end in .png or .svg"},
		{"not a run", []string{"plot", "--out", out, dir}, "has no train.jsonl"},
		{"no events yet", []string{"plot", "--out", out, empty}, "has no metrics or evaluations yet"},
		{"bad panel", []string{"plot", "--out", out, "--panels", "loss,acc", a}, `no panel "acc"`},
		{"bad smoothing", []string{"plot", "--out", out, "--smoothing", "1.5", a}, "smoothing 1.5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(out)
			stdout, err := runCmd(t, []string{"plot"}, tt.args...)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
					t.Errorf("a failed plot changed %s", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stdout, "wrote ") {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1200 || cfg.Height != 330+24 {
		t.Errorf("the last PNG: %+v, %v; want 1200x354 (two panels and the legend)", cfg, err)
	}
}
