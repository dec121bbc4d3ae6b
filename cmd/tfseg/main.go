// Command tfseg runs segmentation losses, SavedModels and evaluations on the
// pure-Go engine or on real TensorFlow.
//
// Usage:
//
//	tfseg <command> [flags]
//
// Run `tfseg help` for the list of commands and `tfseg help COMMAND` (or
// `tfseg COMMAND -h`) for the flags of one; help goes to stdout. Outputs are written to a temporary file and renamed into
// place, so a failed command never leaves a partial file.
//
// Exit status: 0 success; 1 bad input (a file, a value or a model that
// cannot be used); 2 usage (unknown command or flag, missing argument);
// 3 internal error (a bug: please report it); 4 a --fail-under threshold
// failed; 130 interrupted (SIGINT: the outputs are not written).
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

// Exit statuses, the table README.md's user guide shows (TestExitStatus
// checks every command against it).
const (
	exitOK          = 0   // success
	exitInput       = 1   // bad input: a file, a value or a model that cannot be used
	exitUsage       = 2   // usage: unknown command or flag, missing argument
	exitInternal    = 3   // internal error: a bug, please report it
	exitThreshold   = 4   // a --fail-under check failed (the outputs are written)
	exitInterrupted = 130 // interrupted (SIGINT); nothing is left behind
)

// exitTable is the exit status table printed by tfseg help.
const exitTable = "exit status: 0 ok, 1 bad input, 2 usage, 3 internal error, 4 threshold failed (--fail-under), 130 interrupted"

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

// thresholdError lists the --fail-under checks that failed (exit 4).
type thresholdError struct{ failed []string }

func (e *thresholdError) Error() string {
	return fmt.Sprintf("%d of the --fail-under checks failed: %s", len(e.failed), strings.Join(e.failed, "; "))
}

// helpRequest is returned by parseFlags for -h/--help: run prints the
// command's help on stdout and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

func exitCode(err error) int {
	var ue *usageError
	var ie *internalError
	var te *thresholdError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ie), errors.Is(err, engine.ErrPanic):
		return exitInternal
	case errors.As(err, &te):
		return exitThreshold
	}
	return exitInput
}

// newFlags returns a FlagSet for a command. It prints nothing itself:
// parseFlags turns its errors into usage errors and -h into a helpRequest.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("tfseg "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (tfseg inspect DIR --json), and returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs}
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
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process
	}()
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stderrIsTerminal: isTerminal(os.Stderr)})
	stop()
	os.Exit(code)
}

// run runs one command line and returns its exit status. Errors are
// printed as one line, "tfseg COMMAND: message", usage errors with a hint
// to the command's help.
func run(ctx context.Context, args []string, e *env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "tfseg: internal error (please report it): %v\n", r)
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		printHelp(e.stderr)
		return exitUsage
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) == 1 {
			printHelp(e.stdout)
			return exitOK
		}
		if _, ok := commands[args[1]]; !ok {
			fmt.Fprintf(e.stderr, "tfseg: unknown command %q; commands: %s\n", args[1], strings.Join(commandNames(), ", "))
			return exitUsage
		}
		return run(ctx, []string{args[1], "-h"}, e)
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "tfseg: unknown command %q; commands: %s (see tfseg help)\n", args[0], strings.Join(commandNames(), ", "))
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	var help *helpRequest
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		printCommandHelp(e.stdout, c, help.fs)
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintf(e.stderr, "tfseg %s: interrupted\n", c.name)
		return exitInterrupted
	}
	code = exitCode(err)
	fmt.Fprintf(e.stderr, "tfseg %s: %s\n", c.name, message(c, err))
	if code == exitUsage {
		fmt.Fprintf(e.stderr, "see tfseg help %s\n", c.name)
	}
	return code
}

// message is err's text without the prefixes "tfseg: " and "COMMAND: "
// that packages and commands put on their errors, so that every message
// starts with exactly one "tfseg COMMAND: ".
func message(c *command, err error) string {
	msg := err.Error()
	for {
		trimmed := strings.TrimPrefix(strings.TrimPrefix(msg, "tfseg: "), c.name+": ")
		if trimmed == msg {
			return msg
		}
		msg = trimmed
	}
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: tfseg %s %s\n\n%s\n", c.name, c.args, c.summary)
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", flags.String())
	}
	fmt.Fprintf(w, "\n%s\n", exitTable)
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
	fmt.Fprintln(w, exitTable)
}
