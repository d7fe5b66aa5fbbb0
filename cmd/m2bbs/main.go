// Command m2bbs is a scriptable bulletin board: a Mongrel2 handler that
// runs each caller's visit as a Lua coroutine.
//
//	m2bbs run    [flags]  the BBS: built-in front end and host in one process
//	m2bbs host   [flags]  the host alone, behind a Mongrel2 you run
//	m2bbs client [flags] [HOST [PORT]]  call a BBS with the classic client
//	m2bbs m2conf [flags]  print a Mongrel2 configuration for "m2bbs host"
//	m2bbs check  [flags]  compile every script; check requires, entry, globals, screens
//	m2bbs status [flags]  who is online; -broadcast TEXT, -kick CONN_ID, -watch CONN_ID, -chat CONN_ID
//	m2bbs upgrade -dry-run [flags]  who an upgrade would restart, and where
//	m2bbs replay [flags] CONN_ID  a caller's journal replayed offline
//	m2bbs events [flags]  the sysop's scheduled events and their last runs; -run NAME
//	m2bbs ftn [flags] poll|toss|scan|status  FidoNet: the sysop's tools
//	m2bbs frontend [flags]  the built-in front end alone, for a separate host
//	m2bbs db copy FROM TO  copy a stopped board between databases (SQLite, PostgreSQL)
//
// Run "m2bbs COMMAND -h" for a command's flags. The load suite and its
// echo floor are a command of their own, m2bbs-bench.
package main

import (
	"context"
	"io"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
)

// commands are the subcommands, in the order the usage lists them.
var commands = []command.Command{
	{Name: "run", Summary: "the BBS, ready for callers: built-in front end and host in one process", Run: runRun},
	{Name: "host", Summary: "run the host behind a Mongrel2 you started yourself", Run: runHost},
	{Name: "client", Summary: "call a BBS with the classic client", Run: runClient},
	{Name: "m2conf", Summary: "print a Mongrel2 configuration for the host's settings", Run: runM2conf},
	{Name: "webroot", Summary: "write the browser page's files into a folder, for Mongrel2's Dir route", Run: runWebroot},
	{Name: "check", Summary: "compile every script; check its requires, entry, globals and the screens it names", Run: runCheck},
	{Name: "status", Summary: "who is online and how the host is doing; broadcast, kick, watch a caller and chat", Run: runStatus},
	{Name: "upgrade", Summary: "move every caller online onto the scripts as they are now; -dry-run: who would diverge", Run: runUpgrade},
	{Name: "replay", Summary: "replay a caller's stored journal offline and print what they saw; -list", Run: runReplay},
	{Name: "events", Summary: "the sysop's scheduled events, next due times and last runs; -run NAME runs one now", Run: runEvents},
	{Name: "drain", Summary: "move the callers of one phone line onto another (run -lines)", Run: runDrain},
	{Name: "ftn", Summary: "FidoNet: poll the uplinks, toss the inbound, scan new mail out, show the state (docs/fidonet.md)", Run: runFTN},
	{Name: "frontend", Summary: "the built-in front end alone, for a host in another process", Run: runFrontend},
	{Name: "db", Summary: "db copy FROM TO: copy a stopped board into a new database (SQLite, PostgreSQL), counts checked", Run: runDB},
}

func main() { command.Main("m2bbs", commands) }

// runCommand runs the subcommand args[0] with the remaining arguments.
func runCommand(ctx context.Context, args []string, stderr io.Writer) error {
	return command.Run(ctx, "m2bbs", commands, args, stderr)
}
