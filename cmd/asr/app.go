package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

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
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ec.ExitCode() != 0 {
		return ec.ExitCode()
	}
	return 1
}

// loggerKey is where the app keeps its logger (App.Metadata).
const loggerKey = "logger"

func newApp() *cli.App {
	cmds := append([]*cli.Command(nil), commands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	// The default version flag would take -v, which is --verbose here.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	app := &cli.App{
		Name:                 "asr",
		Usage:                "train, evaluate and run a character CTC speech recogniser",
		Version:              version,
		Commands:             cmds,
		EnableBashCompletion: true,
		Suggest:              true,
		// Flags may follow positional arguments: see reorderArgs.
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log debug messages"},
		},
		Before: func(c *cli.Context) error {
			level := slog.LevelInfo
			if c.Bool("verbose") {
				level = slog.LevelDebug
			}
			c.App.Metadata[loggerKey] = slog.New(slog.NewTextHandler(errWriter(c), &slog.HandlerOptions{Level: level}))
			if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
				// Never download PJRT plugins implicitly (see docs/backends.md).
				os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
			}
			return nil
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main prints and exits
	}
	setUpErrors(app)
	return app
}

// appLogger returns the logger of the command line (standard error, debug
// messages with -v). It is passed to the library explicitly: nothing
// changes slog's default logger.
func appLogger(c *cli.Context) *slog.Logger {
	if l, ok := c.App.Metadata[loggerKey].(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.NewTextHandler(errWriter(c), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// errWriter is the app's standard error.
func errWriter(c *cli.Context) io.Writer {
	if c.App.ErrWriter != nil {
		return c.App.ErrWriter
	}
	return os.Stderr
}

// setUpErrors makes every usage error a short message that main prints
// first: an unknown flag or command with a suggestion ("did you mean"), a
// missing required flag, each followed by where to find the help, instead
// of urfave/cli's default of the full help text with the error at its
// end.
func setUpErrors(app *cli.App) {
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return usageError(app.Flags, err, "asr")
	}
	app.Action = unknownCommand(app.Commands, "asr")
	var walk func(cmds []*cli.Command, path string)
	walk = func(cmds []*cli.Command, path string) {
		for _, cmd := range cmds {
			name := path + " " + cmd.Name
			cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
				return usageError(cmd.Flags, err, name)
			}
			requireFlags(cmd, name)
			if len(cmd.Subcommands) > 0 && cmd.Action == nil {
				cmd.Action = unknownCommand(cmd.Subcommands, name)
			}
			walk(cmd.Subcommands, name)
		}
	}
	walk(app.Commands, "asr")
}

// usageError is a flag-parsing error with a suggestion and a pointer to
// the help.
func usageError(flags []cli.Flag, err error, cmd string) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok && cli.SuggestFlag != nil {
		if s := cli.SuggestFlag(flags, strings.TrimLeft(name, "-"), false); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
	}
	return &exitError{code: 2, err: fmt.Errorf("%s; see '%s --help'", msg, cmd)}
}

// unknownCommand is the action of a command that only has subcommands:
// the help when none is named, else an error naming the closest one.
func unknownCommand(cmds []*cli.Command, path string) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() == 0 {
			if path == "asr" {
				return cli.ShowAppHelp(c)
			}
			return cli.ShowSubcommandHelp(c)
		}
		name := c.Args().First()
		msg := fmt.Sprintf("%q is not a command of %s", name, path)
		if cli.SuggestCommand != nil {
			// It says "Did you mean "x"?".
			if s := cli.SuggestCommand(cmds, name); s != "" {
				msg += " (" + strings.ToLower(s[:1]) + s[1:] + ")"
			}
		}
		return &exitError{code: 2, err: fmt.Errorf("%s; see '%s --help'", msg, path)}
	}
}

// requireFlags moves the check of a command's required flags from
// urfave/cli (which prints the whole help before the error) to the
// command's Before, which returns the error alone.
func requireFlags(cmd *cli.Command, path string) {
	var required []string
	for _, f := range cmd.Flags {
		if rf, ok := f.(interface{ IsRequired() bool }); ok && rf.IsRequired() {
			required = append(required, f.Names()[0])
			switch v := f.(type) {
			case *cli.StringFlag:
				v.Required = false
			case *cli.StringSliceFlag:
				v.Required = false
			case *cli.IntFlag:
				v.Required = false
			default:
				// Leave urfave/cli to check it.
				required = required[:len(required)-1]
			}
		}
	}
	if len(required) == 0 {
		return
	}
	before := cmd.Before
	cmd.Before = func(c *cli.Context) error {
		var missing []string
		for _, name := range required {
			if !c.IsSet(name) {
				missing = append(missing, "--"+name)
			}
		}
		if len(missing) > 0 {
			return &exitError{code: 2, err: fmt.Errorf("missing %s; see '%s --help'", strings.Join(missing, ", "), path)}
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}
