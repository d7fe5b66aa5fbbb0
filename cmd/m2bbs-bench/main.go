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
	"io"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
)

// commands are the subcommands, in the order the usage lists them.
var commands = []command.Command{
	{Name: "bench", Summary: "measure the board against the transport floor", Run: runBench},
	{Name: "echo", Summary: "the transport floor: a handler that echoes every line as a prompt", Run: runEcho},
}

func main() { command.Main("m2bbs-bench", commands) }

// runCommand runs the subcommand args[0] with the remaining arguments.
func runCommand(ctx context.Context, args []string, stderr io.Writer) error {
	return command.Run(ctx, "m2bbs-bench", commands, args, stderr)
}
