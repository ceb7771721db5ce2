package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/asr/model"
)

func TestModelInfo(t *testing.T) {
	for _, preset := range model.PresetNames() {
		t.Run(preset, func(t *testing.T) {
			var out bytes.Buffer
			if err := modelInfo(&out, preset, 4); err != nil {
				t.Fatal(err)
			}
			cfg, _ := model.Preset(preset)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			want := strconv.Itoa(cfg.NumParameters()) + " parameters"
			if last := lines[len(lines)-1]; last != want {
				t.Errorf("last line %q, want %q", last, want)
			}
			for _, stage := range []string{"subsampling/stage1", "subsampling/stage2", "encoder/layer_00", "output"} {
				if !strings.Contains(out.String(), stage) {
					t.Errorf("output lacks block %s:\n%s", stage, out.String())
				}
			}
			if !strings.Contains(out.String(), "[1 100 29]") {
				t.Errorf("output lacks the output shape [1 100 29] for 4 s:\n%s", out.String())
			}
			if testing.Verbose() {
				t.Log("\n" + out.String())
			}
		})
	}
}

func TestModelInfoErrors(t *testing.T) {
	for _, tc := range []struct {
		preset  string
		seconds float64
		want    string
	}{
		{"huge", 4, `unknown preset "huge"`},
		{"tiny", 0, "--seconds"},
		{"tiny", -1, "--seconds"},
	} {
		err := modelInfo(&bytes.Buffer{}, tc.preset, tc.seconds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("modelInfo(%q, %g) = %v, want an error mentioning %q", tc.preset, tc.seconds, err, tc.want)
		}
	}
}
