package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	LearningRate float64            `yaml:"learning_rate"`
	Steps        int                `yaml:"steps"`
	Every        time.Duration      `yaml:"every"`
	Enabled      bool               `yaml:"enabled"`
	Tags         []string           `yaml:"tags"`
	Small        int8               `yaml:"small"`
	Count        uint               `yaml:"count"`
	Weights      map[string]float64 `yaml:"weights"`
}

type config struct {
	Name  string `yaml:"name"`
	Train inner  `yaml:"train"`
	Opt   *inner `yaml:"opt"`
	skip  int
}

func TestDecodeValid(t *testing.T) {
	src := `# comment
name: run1
train:
  learning_rate: 1e-3
  steps: 1_000
  every: 90s
  enabled: true
  tags: [a, b]
  small: -5
  count: 7
  weights: {x: 1, y: 2.5}
opt:
  steps: 3
`
	c := config{Train: inner{Steps: 99}}
	if err := Decode([]byte(src), "c.yaml", &c); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if c.Name != "run1" || c.Train.LearningRate != 1e-3 || c.Train.Steps != 1000 || c.Train.Every != 90*time.Second ||
		!c.Train.Enabled || len(c.Train.Tags) != 2 || c.Train.Small != -5 || c.Train.Count != 7 ||
		c.Train.Weights["y"] != 2.5 || c.Opt == nil || c.Opt.Steps != 3 {
		t.Errorf("decoded %+v (opt %+v)", c, c.Opt)
	}
}

func TestDecodeKeepsDefaultsForAbsentKeys(t *testing.T) {
	c := config{Name: "default", Train: inner{Steps: 42}}
	if err := Decode([]byte("train:\n  enabled: true\n"), "c.yaml", &c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "default" || c.Train.Steps != 42 || !c.Train.Enabled {
		t.Errorf("got %+v", c)
	}
	if err := Decode(nil, "empty.yaml", &c); err != nil {
		t.Errorf("empty document: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings, one per expected error
	}{
		{"unknown key with suggestion", "train:\n  stepz: 3\n", []string{"c.yaml:2:3: train.stepz: unknown key (did you mean \"steps\"?)"}},
		{"unknown top-level key", "nmae: x\n", []string{"c.yaml:1:1: nmae: unknown key (did you mean \"name\"?)"}},
		{"fraction for integer", "train:\n  steps: 1.5\n", []string{"c.yaml:2:10: train.steps: expected an integer, got \"1.5\""}},
		{"string for number", "train:\n  learning_rate: fast\n", []string{"train.learning_rate: expected a number, got \"fast\""}},
		{"quoted number is a string", "train:\n  steps: \"3\"\n", []string{"train.steps: expected an integer"}},
		{"bad bool", "train:\n  enabled: maybe\n", []string{"train.enabled: expected true or false"}},
		{"bad duration", "train:\n  every: 5 minutes\n", []string{"train.every: expected a duration"}},
		{"overflow", "train:\n  small: 300\n", []string{"train.small: 300 is out of range"}},
		{"negative unsigned", "train:\n  count: -1\n", []string{"train.count: expected a non-negative integer"}},
		{"list for scalar", "name: [a]\n", []string{"name: expected a string, got a list"}},
		{"scalar for struct", "train: 3\n", []string{"train: expected a mapping of keys"}},
		{"duplicate key", "name: a\nname: b\n", []string{"c.yaml:2:1: name: duplicate key (first set on line 1)"}},
		{"nan", "train:\n  learning_rate: .nan\n", []string{"expected a finite number"}},
		{"every problem at once", "nmae: x\ntrain:\n  steps: x\n  learning_rate: y\n", []string{"nmae: unknown key", "train.steps: expected an integer", "train.learning_rate: expected a number"}},
		{"syntax error has a line", "train:\n  steps: [1, 2\n", []string{"c.yaml:", "invalid YAML"}},
		{"two documents", "name: a\n---\nname: b\n", []string{"more than one YAML document"}},
		{"list element path", "train:\n  tags: [a, [b]]\n", []string{"train.tags[1]: expected a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			err := Decode([]byte(tt.src), "c.yaml", &c)
			if err == nil {
				t.Fatalf("Decode succeeded, want errors %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

func TestDecodeNeedsPointer(t *testing.T) {
	if err := Decode([]byte("a: 1"), "x", config{}); err == nil {
		t.Error("Decode into a non-pointer succeeded")
	}
}
