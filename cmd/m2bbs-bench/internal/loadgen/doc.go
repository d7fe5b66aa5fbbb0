// Package loadgen measures a board from the callers' side: it plays many
// callers at once, each through a scripted visit, and records how long
// every prompt round trip takes.
//
// A [Script] plays one caller's side of one visit, message by message; it
// knows nothing of sockets. [BoardScript] is the visit of the shipped board
// (scripts/bbs.lua): register or log in, read the MOTD, leave a message,
// read messages, send a private message, read the inbox, quit.
// [EchoScript] is the same number of round trips against a handler that
// echoes every line, the transport floor.
//
// Two drivers carry scripts to a board:
//
//   - [Run] opens one TCP connection per caller to a front end (Mongrel2
//     or m2bbs's own) and speaks the classic client's protocol (package
//     classic), one goroutine per caller.
//   - [Mux] plays the front end itself: it binds the handler's ZeroMQ
//     sockets (package zmqtransport) and carries any number of callers,
//     each a made-up conn id, over that one socket pair. It is for holding
//     more callers than the machine has file descriptors.
//
// [ParkTelnet] and [ParkSSH] call m2bbs's telnet and SSH gateways as a
// terminal client would and leave the caller silent at a prompt;
// [ParkMany] places many of them at once. They are for measuring what an
// idle caller of each kind costs.
//
// [ReadProc] reads a process's CPU time and resident memory from /proc,
// for the figures a run reports about the host.
package loadgen
