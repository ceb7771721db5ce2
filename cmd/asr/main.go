// Command asr is the asrkit command-line tool: feature extraction, training,
// evaluation, transcription and the HTTP service. Each subcommand lives in a
// file of its own and only fills a config struct and calls the library.
package main

import (
	"fmt"
	"os"
)

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "asr:", err)
		os.Exit(exitCode(err))
	}
}
