// Command m2bbs-bench measures m2bbs: the load suite of `make bench` and
// the transport floor it compares the board with. It is not part of the
// shipped BBS; it starts the m2bbs binary (found next to itself, or given
// with -m2bbs) for the front end and the host.
//
//	m2bbs-bench bench [flags]  measure the board against the transport floor
//	m2bbs-bench echo  [flags]  a bare echo handler: the transport floor
//
// Run "m2bbs-bench COMMAND -h" for a command's flags.
package main

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

// command is one subcommand: its name, a line of help and its Run.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stderr io.Writer) error
}

var commands = []command{
	{"bench", "measure the board against the transport floor", runBench},
	{"echo", "the transport floor: a handler that echoes every line as a prompt", runEcho},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runCommand(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "m2bbs-bench:", err)
		}
		os.Exit(2)
	}
}

// runCommand runs the subcommand args[0] with the remaining arguments.
func runCommand(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: m2bbs-bench COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
