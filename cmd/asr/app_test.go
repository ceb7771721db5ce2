package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsageErrors: a mistyped command or flag, or a missing required
// flag, gives one short line (the error first, with a suggestion and where
// the help is), exit status 2, and nothing else on either stream.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"transcrib", "a.wav"}, `"transcrib" is not a command of asr (did you mean "transcribe"?); see 'asr --help'`},
		{[]string{"transcribe", "--fromat", "json", "a.wav"}, "flag provided but not defined: -fromat (did you mean --format?); see 'asr transcribe --help'"},
		{[]string{"lm", "buil"}, `"buil" is not a command of asr lm (did you mean "build"?); see 'asr lm --help'`},
		{[]string{"lm", "build", "a.txt"}, "missing --out; see 'asr lm build --help'"},
		{[]string{"export", "runs/x"}, "missing --out; see 'asr export --help'"},
	} {
		app := newApp()
		var out, errOut bytes.Buffer
		app.Writer, app.ErrWriter = &out, &errOut
		err := app.Run(reorderArgs(app, append([]string{"asr"}, c.args...)))
		if err == nil || err.Error() != c.want || exitCode(err) != 2 {
			t.Errorf("asr %s: %v (exit %d), want %q", strings.Join(c.args, " "), err, exitCode(err), c.want)
		}
		if out.Len()+errOut.Len() > 0 {
			t.Errorf("asr %s printed %q and %q besides the error", strings.Join(c.args, " "), out.String(), errOut.String())
		}
	}
}
