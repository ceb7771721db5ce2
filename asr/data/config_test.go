package data

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; nil means valid
	}{
		{"ljspeech", Config{LJSpeech: LJSpeechConfig{Path: "x"}}, nil},
		{"manifests", Config{Manifests: ManifestConfig{Train: "t.jsonl", Val: "v.jsonl"}}, nil},
		{"no source", Config{}, []string{"datasets.ljspeech.path or datasets.manifests.train must be set"}},
		{"two sources", Config{LJSpeech: LJSpeechConfig{Path: "x"}, Manifests: ManifestConfig{Train: "t"}}, []string{"both set"}},
		{"val without train", Config{Manifests: ManifestConfig{Val: "v"}}, []string{"manifests.train must be set"}},
		{"everything wrong at once", Config{
			LJSpeech:    LJSpeechConfig{Path: "x"},
			Split:       SplitConfig{Val: f(0.6), Test: f(1.5)},
			MaxDuration: -1, Workers: -2,
			Batching: BatchingConfig{Buckets: []int{100, 50, -3}, MaxFrames: -1, Prefetch: -1, MaxBatchSize: -1},
		}, []string{"split.test = 1.5", "max_duration = -1", "workers = -2", "buckets must be strictly increasing", "buckets[2] = -3", "max_frames", "prefetch", "max_batch_size"}},
		{"fractions leave no training data", Config{LJSpeech: LJSpeechConfig{Path: "x"}, Split: SplitConfig{Val: f(0.5), Test: f(0.5)}}, []string{"must leave some training data"}},
		{"lists with manifests", Config{Manifests: ManifestConfig{Train: "t", Test: "u"}, Split: SplitConfig{Lists: SplitLists{Val: "v"}}}, []string{"already define the split"}},
		{"train list alone", Config{LJSpeech: LJSpeechConfig{Path: "x"}, Split: SplitConfig{Lists: SplitLists{Train: "t"}}}, []string{"split.lists.train is set without"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if err := tt.cfg.WithDefaults().Validate(); err != nil {
					t.Fatalf("defaulted config invalid: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigDefaultsAndPaths(t *testing.T) {
	d := DefaultConfig()
	if d.MaxDuration != 16.7 || *d.Split.Val != 0.01 || *d.Split.Test != 0.04 || d.Batching.MaxFrames != 20000 || d.Batching.Prefetch != 4 || d.Workers < 1 {
		t.Errorf("defaults: %+v", d)
	}
	base := filepath.FromSlash("/etc/asr")
	c := Config{LJSpeech: LJSpeechConfig{Path: "data/LJ"}, CacheDir: "/abs/cache", Split: SplitConfig{Lists: SplitLists{Val: "../v.txt"}}}
	r := c.ResolvePaths(base)
	if r.LJSpeech.Path != filepath.Join(base, "data/LJ") || r.CacheDir != "/abs/cache" || r.Split.Lists.Val != filepath.FromSlash("/etc/v.txt") || r.Split.Lists.Test != "" {
		t.Errorf("resolved: %+v", r)
	}
	if c.LJSpeech.Path != "data/LJ" {
		t.Error("ResolvePaths changed its receiver")
	}
}
