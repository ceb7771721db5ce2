package main

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestReorderArgs(t *testing.T) {
	app := &cli.App{
		Flags: []cli.Flag{&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}}},
		Commands: []*cli.Command{
			{Name: "transcribe", Flags: []cli.Flag{
				&cli.StringFlag{Name: "format"},
				&cli.IntFlag{Name: "beam"},
				&cli.BoolFlag{Name: "json"},
			}},
			{Name: "data", Subcommands: []*cli.Command{
				{Name: "check", Flags: []cli.Flag{&cli.StringFlag{Name: "config", Aliases: []string{"c"}}}},
			}},
		},
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"flags first untouched", []string{"asr", "transcribe", "--format", "json", "a.wav"}, []string{"asr", "transcribe", "--format", "json", "a.wav"}},
		{"trailing value flag", []string{"asr", "transcribe", "a.wav", "--format", "json"}, []string{"asr", "transcribe", "--format", "json", "a.wav"}},
		{"trailing bool flag", []string{"asr", "transcribe", "a.wav", "--json", "b.wav"}, []string{"asr", "transcribe", "--json", "a.wav", "b.wav"}},
		{"equals form", []string{"asr", "transcribe", "a.wav", "--beam=8"}, []string{"asr", "transcribe", "--beam=8", "a.wav"}},
		{"global flag then subcommand", []string{"asr", "-v", "data", "check", "x", "-c", "c.yaml"}, []string{"asr", "-v", "data", "check", "-c", "c.yaml", "x"}},
		{"stdin dash is positional", []string{"asr", "transcribe", "-", "--format", "srt"}, []string{"asr", "transcribe", "--format", "srt", "-"}},
		{"double dash stops", []string{"asr", "transcribe", "a.wav", "--", "--json"}, []string{"asr", "transcribe", "a.wav", "--", "--json"}},
		{"unknown command untouched", []string{"asr", "nope", "x", "--y"}, []string{"asr", "nope", "x", "--y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reorderArgs(app, tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
