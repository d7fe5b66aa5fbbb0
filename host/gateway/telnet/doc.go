// Package telnet is m2bbs's telnet front end: a gateway that lets a
// plain telnet client call the BBS.
//
// For each telnet caller the gateway opens one classic JSON-socket
// connection to the BBS through [Config.Dial] (in `m2bbs run`, one end of
// a net.Pipe served by the built-in front end; behind Mongrel2, a TCP
// connection to Mongrel2's port), says "connect" with colour on, and then
// translates: the BBS's screens, prompts and exit messages become NVT text
// (ANSI colour passes through), and the caller's keystrokes are edited
// into lines on the server side and sent as classic requests. To the host
// a telnet caller is an ordinary conn_id, so every script works unchanged.
//
// The parts, each usable alone:
//
//   - codec.go: the telnet protocol, knowing nothing of sockets. [Decoder]
//     splits a byte stream, however it is cut, into data, commands, option
//     negotiation and subnegotiation [Token]s; [AppendNegotiation],
//     [AppendSubnegotiation] and [AppendNVT] build what goes out.
//     [ParseNAWS] and [ParseTerminalType] read the two subnegotiations the
//     gateway asks for.
//   - options.go: which options are on, answering each request at most
//     once per change of state, so two telnet programs never loop.
//   - editor.go: [Editor], server-side line editing (echo, backspace,
//     Ctrl-U, Ctrl-W, secret input, a length limit, UTF-8).
//   - terminal.go: the caller's terminal (termprofile.Profile): the
//     answers to the opening negotiation are waited for before the BBS
//     is dialled ([Config.NegotiationWait]), every request carries the
//     terminal ("terminal"), and text goes out in the caller's character
//     set (CP437 and ASCII translated from the BBS's UTF-8, typed CP437
//     read back as UTF-8).
//   - server.go and caller.go: [Server], the network side.
//
// # What the caller sees
//
// On connecting the gateway offers to echo and to suppress go-ahead, and
// asks for the window size (NAWS) and terminal type; clients that answer
// nothing (nc) or refuse get no server echo and work in line mode. The
// terminal type sets the character set (termprofile.Detect): an ANSI
// terminal (SyncTERM, NetRunner) gets CP437, xterm and its kin UTF-8, a
// dumb terminal ASCII without colour; an unknown type UTF-8 until the BBS
// chooses (message.Message.Encoding). A
// prompt's answer is echoed as typed, except after a secret prompt
// (a password), where nothing is echoed. Enter may arrive as CR LF, CR NUL,
// a bare CR or a bare LF; each ends exactly one line. Ctrl-C or Ctrl-D on
// an empty line hangs up. Input typed while no prompt is waiting is kept
// (up to [Config.MaxTypeAhead] bytes) for the next prompt.
package telnet
