// Package cli is the headless maskinv command line: every subcommand's
// flags, usage errors and exit statuses, calling the pipelines of app,
// compare and train (which the GUI calls too).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Stdio is where a subcommand reads and writes, and the environment it
// sees; tests pass buffers and their own environment.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	// Getenv reads the environment (the scheduler's variables that say
	// which shard a task is); nil: os.Getenv.
	Getenv func(string) string
	// Desktop runs the desktop app until it quits (`maskinv gui`); nil
	// where the binary has none.
	Desktop func(ctx context.Context, opt GUIOptions) error
}

func (s Stdio) getenv(key string) string {
	if s.Getenv == nil {
		return os.Getenv(key)
	}
	return s.Getenv(key)
}

// Command is one headless subcommand of the maskinv binary.
type Command struct {
	Name    string
	Summary string
	// Run parses args (without the command name) and does the work. It
	// returns an error for the caller to print; usage errors wrap ErrUsage.
	Run func(ctx context.Context, args []string, stdio Stdio) error
}

// ErrUsage marks bad command-line arguments (exit status 2).
var ErrUsage = errors.New("usage")

// Commands lists the subcommands. It is a function, not a package variable,
// so that no command table is shared mutable state.
func Commands() []Command {
	cmds := []Command{}
	cmds = append(cmds, registered()...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

// Run dispatches args[0] to its subcommand and returns the process exit code.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdio.Err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range Commands() {
		if c.Name == args[0] {
			return exitStatus(ctx, c.Name, c.Run(ctx, args[1:], stdio), stdio.Err)
		}
	}
	fmt.Fprintf(stdio.Err, "maskinv: unknown command %q\n", args[0])
	usage(stdio.Err)
	return 2
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: maskinv [command] [flags]\n\nWith no command, maskinv opens the desktop app.\n\nCommands:\n")
	for _, c := range Commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nRun 'maskinv COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}

// newFlagSet is the flag set of subcommand name: errors and -h go to w,
// the usage line "usage: maskinv SYNOPSIS" above the flags' defaults.
func newFlagSet(name string, w io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintln(w, "usage: maskinv "+synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a subcommand's flags; help reports -h, which is not an
// error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usagef("%v", err)
	}
	return false, nil
}

// usagef reports bad command-line arguments: the error wraps ErrUsage,
// which the exit status (2) is chosen by.
func usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}
