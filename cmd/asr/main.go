// Command asr is the asrkit command-line tool: feature extraction, training,
// evaluation and transcription. Each subcommand lives in a
// file of its own and only fills a config struct and calls the library.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		// Library errors carry their own "asr: " prefix; say it once.
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "asr: "), ": asr: ", ": ")
		fmt.Fprintln(os.Stderr, "asr:", msg)
		os.Exit(exitCode(err))
	}
}
