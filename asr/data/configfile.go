package data

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/asrkit/asrkit/asr/features"
	"github.com/asrkit/asrkit/internal/strictyaml"
)

// ConfigFile is the part of a training config (YAML) that the data path
// reads: its datasets: and features: sections.
type ConfigFile struct {
	Datasets Config          `yaml:"datasets"`
	Features features.Config `yaml:"features"`
}

// LoadConfigFile reads the datasets: and features: sections of a training
// config, as strictly as the trainer reads them (an unknown key, a wrong
// type or a duplicate inside them is an error with file:line:column, all
// reported at once), and resolves relative paths against the config's
// folder. The other top-level sections (model:, train:, ...) belong to
// the trainer (train.LoadConfig checks them) and are not read, so a data
// check runs on a config whose training part is still being written.
func LoadConfigFile(path string) (ConfigFile, error) {
	var out ConfigFile
	raw, err := os.ReadFile(path)
	if err != nil {
		return out, fmt.Errorf("data: %w", err)
	}
	if err := strictyaml.DecodeSections(raw, path, &out); err != nil {
		return out, err
	}
	out.Datasets = out.Datasets.ResolvePaths(filepath.Dir(path))
	return out, nil
}
