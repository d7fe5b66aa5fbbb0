// Command m2bbs is a scriptable bulletin board: a Mongrel2 handler that
// runs each caller's visit as a Lua coroutine.
//
//	m2bbs run    [flags]  the BBS: built-in front end and host in one process
//	m2bbs host   [flags]  the host alone, behind a Mongrel2 you run
//	m2bbs client [flags] [HOST [PORT]]  call a BBS with the classic client
//	m2bbs m2conf [flags]  print a Mongrel2 configuration for "m2bbs host"
//	m2bbs check  [flags]  compile every script, check the screens they name
//	m2bbs status [flags]  who is online; -broadcast TEXT, -kick CONN_ID
//	m2bbs frontend [flags]  the built-in front end alone, for a separate host
//
// Run "m2bbs COMMAND -h" for a command's flags. The load suite and its
// echo floor are a command of their own, m2bbs-bench.
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
	{"run", "the BBS, ready for callers: built-in front end and host in one process", runRun},
	{"host", "run the host behind a Mongrel2 you started yourself", runHost},
	{"client", "call a BBS with the classic client", runClient},
	{"m2conf", "print a Mongrel2 configuration for the host's settings", runM2conf},
	{"webroot", "write the browser page's files into a folder, for Mongrel2's Dir route", runWebroot},
	{"check", "compile every script and check the screens they name", runCheck},
	{"status", "who is online and how the host is doing; broadcast, kick", runStatus},
	{"upgrade", "move every caller online onto the scripts as they are now", runUpgrade},
	{"drain", "move the callers of one phone line onto another (run -lines)", runDrain},
	{"frontend", "the built-in front end alone, for a host in another process", runFrontend},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runCommand(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "m2bbs:", err)
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
	fmt.Fprintln(w, "usage: m2bbs COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
