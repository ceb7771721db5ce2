// Command asr is the asrkit command-line tool: feature extraction, data
// checks, training, export, evaluation and transcription. Each subcommand
// lives in a file of its own, parses its flags and calls the library.
package main

import (
	"fmt"
	"os"
)

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		// The library's errors carry no program prefix: say it once, here.
		fmt.Fprintln(os.Stderr, "asr:", err)
		os.Exit(exitCode(err))
	}
}
