package main

import (
	"errors"
	"log/slog"
	"os"
	"sort"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// commands holds every subcommand; each subcommand file appends its own in an
// init function so that files can be added without touching this one.
var commands []*cli.Command

// exitError carries a specific process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newApp() *cli.App {
	cmds := append([]*cli.Command(nil), commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	// The default version flag would take -v, which is --verbose here.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	return &cli.App{
		Name:                 "asr",
		Usage:                "train, evaluate and run a character CTC speech recogniser",
		Version:              version,
		Commands:             cmds,
		EnableBashCompletion: true,
		// Flags may follow positional arguments: see allowTrailingFlags.
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log debug messages"},
		},
		Before: func(c *cli.Context) error {
			level := slog.LevelInfo
			if c.Bool("verbose") {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
				// Never download PJRT plugins implicitly (see docs/backends.md).
				os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
			}
			return nil
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints and exits
	}
}
