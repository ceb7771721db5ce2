package data

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The trainer's sections are not read, whatever they hold; the data
	// sections are strict, with the line of each problem.
	_, err := LoadConfigFile(write("model:\n  preset: tiny\n  whatever: [1, 2]\ndatasets:\n  ljspeech:\n    path: x\n  max_duraton: 3\nfeatures:\n  n_mels: many\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:7:3: datasets.max_duraton: unknown key") || !strings.Contains(err.Error(), "c.yaml:9:") {
		t.Errorf("errors: %v", err)
	}
	// Flow style, relative paths resolved against the config's folder.
	f, err := LoadConfigFile(write("train: {steps: 3}\ndatasets: {ljspeech: {path: rel/LJ}}\nfeatures: {n_mels: 64}\n"))
	if err != nil || f.Datasets.LJSpeech.Path != filepath.Join(dir, "rel", "LJ") || f.Features.NumMels != 64 {
		t.Errorf("flow style: %+v %+v %v", f.Datasets.LJSpeech, f.Features, err)
	}
	if _, err := LoadConfigFile(write("datasets: [\n")); err == nil || !strings.Contains(err.Error(), "invalid YAML") {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := LoadConfigFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
