// Command runsc-lite is the runsc-lite CLI: `runsc-lite do` runs one
// command in a fresh sandbox; `boot` and `gofer` are the internal
// subcommands the CLI re-executes itself (/proc/self/exe) as, for the
// sentry and gofer processes. The OCI runtime commands slot into the
// command table below.
//
// Exit codes of the CLI itself: 2 for usage errors (bad flags or
// arguments; nothing was started), 125 for failures to set the sandbox up
// (like docker and runc); otherwise the guest's exit status is passed
// through (128+N for a guest killed by signal N, 126/127 for a command
// that cannot be executed / does not exist).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Exit codes of the CLI itself.
const (
	exitUsage = 2
	exitSetup = 125
)

func init() {
	// A child started with Pdeathsig dies when the *thread* that forked
	// it exits: keep the main goroutine on the main thread, which lives as
	// long as the process. (The sandbox's own processes are forked by a
	// thread of their own: sandbox/launcher.go.)
	runtime.LockOSThread()
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string // one line for `help`
	usage    string // argument synopsis after the command name
	internal bool   // not listed by `help`
	// run parses the command's flags and arguments (after the global
	// flags and the command name), runs it and returns the exit status.
	run func(g *globalFlags, args []string) int
}

// commands is the command table. OCI commands (create, start, run, exec,
// kill, delete, state, list, ps, pause, resume, update, events, spec,
// features, install) are added here.
var commands []*command

func init() {
	commands = []*command{
		doCommand,
		syscallsCommand,
		createCommand,
		startCommand,
		runCommand,
		stateCommand,
		killCommand,
		deleteCommand,
		waitCommand,
		listCommand,
		psCommand,
		pauseCommand,
		resumeCommand,
		updateCommand,
		eventsCommand,
		execCommand,
		execProxyCommand,
		specCommand,
		featuresCommand,
		installCommand,
		uninstallCommand,
		versionCommand,
		helpCommand,
		bootCommand,
		goferCommand,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is an error in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// fatalf prints one error line prefixed "runsc-lite: " on stderr (and to
// the --log file) and returns code, for `return fatalf(...)`.
func fatalf(code int, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "runsc-lite: %s\n", msg)
	logError(msg)
	return code
}

func main() {
	os.Exit(runMain(os.Args[1:]))
}

// runMain parses the global flags, dispatches to the subcommand and
// returns the exit status.
func runMain(args []string) int {
	g, rest, err := parseGlobalFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(os.Stdout)
		return 0
	}
	if err != nil {
		return fatalf(exitUsage, "%v", flagError(err))
	}
	if err := openLog(g); err != nil {
		return fatalf(exitSetup, "%v", err)
	}
	defer closeLog()
	if len(rest) == 0 {
		return fatalf(exitUsage, "no command given (try 'runsc-lite help')")
	}
	c := lookup(rest[0])
	if c == nil {
		return fatalf(exitUsage, "unknown command %q (try 'runsc-lite help')", rest[0])
	}
	logState.prefix = fmt.Sprintf("[%s %d] ", c.name, os.Getpid())
	if c.internal {
		// We run as /proc/self/exe, so ps would show "exe".
		setProcessName("runsc-" + c.name)
	}
	debugf("%s %s", c.name, strings.Join(rest[1:], " "))
	return c.run(g, rest[1:])
}

// newFlagSet returns a flag set for command c that reports errors to the
// caller instead of printing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseCommandFlags parses args with fs; on -h/--help it prints the
// command's help and returns done=true with status 0, on an error it
// prints it and returns done=true with status 2.
func parseCommandFlags(name string, fs *flag.FlagSet, args []string) (done bool, status int) {
	c := lookup(name)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(os.Stdout, c, fs)
		return true, 0
	}
	if err != nil {
		return true, fatalf(exitUsage, "%s: %v", c.name, flagError(err))
	}
	return false, 0
}

var helpCommand = &command{
	name:     "help",
	synopsis: "show help for runsc-lite or one command",
	usage:    "[COMMAND]",
	run: func(g *globalFlags, args []string) int {
		switch len(args) {
		case 0:
			printHelp(os.Stdout)
			return 0
		case 1:
			c := lookup(args[0])
			if c == nil {
				return fatalf(exitUsage, "help: unknown command %q", args[0])
			}
			// Show the command's own flags: run it with --help.
			return c.run(g, []string{"--help"})
		default:
			return fatalf(exitUsage, "help: too many arguments")
		}
	},
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, `runsc-lite: run programs in a user-space kernel sandbox.

Usage: runsc-lite [GLOBAL FLAGS] COMMAND [FLAGS] [ARGS...]

Commands:
`)
	for _, c := range commands {
		if !c.internal {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.synopsis)
		}
	}
	fmt.Fprintf(w, "\nGlobal flags:\n")
	printDefaults(w, newGlobalFlagSet(&globalFlags{}))
	fmt.Fprintf(w, `
What the guest writes to its root file system stays in the sandbox, in an
overlay whose file data is in the sentry's memory by default. With
--overlay dir:DIR it is in an unnamed file in DIR instead, on disk, gone
with the sandbox (self: in the OCI bundle's rootfs); --overlay-size
limits it (ENOSPC beyond).

Exit status: the guest's (128+N if it was killed by signal N; 126/127 if
the command cannot be executed / is not found), 2 for usage errors, 125
when the sandbox cannot be set up.
`)
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: runsc-lite %s %s\n\n%s.\n", c.name, c.usage, strings.ToUpper(c.synopsis[:1])+c.synopsis[1:])
	if fs != nil {
		fmt.Fprintf(w, "\nFlags:\n")
		printDefaults(w, fs)
	}
}

// flagError rewrites the flag package's messages with the double-dash
// spelling this CLI documents.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("unknown flag --%s", name)
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Errorf("flag --%s needs an argument", rest)
	}
	if strings.HasPrefix(msg, "invalid ") {
		msg = strings.Replace(msg, " for flag -", " for --", 1)
		return errors.New(msg)
	}
	return err
}

func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		fmt.Fprintf(w, "  %-28s %s", arg, usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}
