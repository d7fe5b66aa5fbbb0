// Package command is the subcommand table of the repository's programs:
// "PROG COMMAND [flags]", dispatch to the command named and the usage that
// lists them.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is one subcommand: its name, a line of help and what it runs
// with the arguments after its name.
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string, stderr io.Writer) error
}

// Run runs the command of cmds named args[0] with the remaining
// arguments. With no arguments, or -h, --help or help, it writes prog's
// usage to stderr (an error only for no arguments); an unknown name gets
// the usage and an error.
func Run(ctx context.Context, prog string, cmds []Command, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		Usage(stderr, prog, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stderr)
		}
	}
	Usage(stderr, prog, cmds)
	return fmt.Errorf("unknown command %q", args[0])
}

// Usage writes prog's usage line and its commands, one a line, to w.
func Usage(w io.Writer, prog string, cmds []Command) {
	fmt.Fprintf(w, "usage: %s COMMAND [flags]\n", prog)
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-8s %s\n", c.Name, c.Summary)
	}
}

// Main is a program's main: it runs the command named by os.Args[1] with a
// context cancelled on SIGINT or SIGTERM. An error other than flag.ErrHelp
// is printed as "prog: error"; any error exits with status 2, or an
// ExitStatus's own.
func Main(prog string, cmds []Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, prog, cmds, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		}
		var status *ExitStatus
		if errors.As(err, &status) {
			os.Exit(status.Code)
		}
		os.Exit(2)
	}
}

// ExitStatus is an error that makes Main exit with Code instead of 2: a
// command whose run went as asked but found what a script should act on
// (m2bbs upgrade -dry-run: a caller would diverge).
type ExitStatus struct {
	Code int
	Err  error
}

func (e *ExitStatus) Error() string { return e.Err.Error() }
func (e *ExitStatus) Unwrap() error { return e.Err }
