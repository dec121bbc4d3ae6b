// Command tfseg runs segmentation losses, SavedModels and evaluations on the
// pure-Go engine or on real TensorFlow.
//
// Usage:
//
//	tfseg <command> [flags]
//
// Run `tfseg help` for the list of commands and `tfseg <command> -h` for the
// flags of one. Outputs are written to a temporary file and renamed into
// place, so a failed command never leaves a partial file.
//
// Exit status: 0 success; 1 bad input (a file, a value or a model that
// cannot be used); 2 usage (unknown command or flag, missing argument);
// 3 internal error (a bug: please report it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/tfseg/tfseg/engine"
)

// Exit statuses.
const (
	exitOK       = 0
	exitInput    = 1
	exitUsage    = 2
	exitInternal = 3
)

// command is one subcommand.
type command struct {
	name    string
	args    string // argument synopsis for help
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch: its output streams.
type env struct {
	stdout, stderr io.Writer
	// stderrIsTerminal enables progress bars.
	stderrIsTerminal bool
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("tfseg: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// internalError marks a bug (exit 3).
type internalError struct{ err error }

func (e *internalError) Error() string { return "internal error: " + e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ue *usageError
	var ie *internalError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return exitUsage
	case errors.As(err, &ie):
		return exitInternal
	case errors.Is(err, engine.ErrKernel) && strings.Contains(err.Error(), "panic:"):
		return exitInternal
	}
	return exitInput
}

// newFlags returns a FlagSet for a command that reports errors as usage
// errors and prints its help to stderr.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("tfseg "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: tfseg %s %s\n\n%s\n\nflags:\n", c.name, c.args, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (tfseg inspect DIR --json), and returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stderrIsTerminal: isTerminal(os.Stderr)})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "tfseg: internal error: %v\n", r)
			code = exitInternal
		}
	}()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return run(ctx, []string{c.name, "-h"}, e)
			}
		}
		printHelp(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "tfseg: unknown command %q; commands: %s\n", args[0], strings.Join(commandNames(), ", "))
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	code = exitCode(err)
	if !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(e.stderr, "tfseg %s: %v\n", c.name, err)
	}
	return code
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "tfseg: segmentation losses, SavedModels and evaluation on the pure-Go engine or real TensorFlow")
	fmt.Fprintln(w, "\nusage: tfseg <command> [flags]\n\ncommands:")
	for _, n := range commandNames() {
		c := commands[n]
		fmt.Fprintf(w, "  %-10s %s\n", n, c.summary)
	}
	fmt.Fprintf(w, "\nengines built in: %s\n", strings.Join(engine.Names(), ", "))
	fmt.Fprintln(w, "exit status: 0 ok, 1 bad input, 2 usage, 3 internal error")
}
