// Package dispatch runs the BBS behind a front end: it takes the handler
// messages the front end (Mongrel2, or m2bbs's own) sends over a Transport,
// parses them once with m2proto, and hands each caller's messages to the
// Lua worker that owns the caller's session. It also answers HTTP requests
// for the status page and the sysop's actions (one ServeMux behind one
// authorisation middleware), reloads the scripts when they change, reaps
// idle sessions and stops runaway ones.
//
// Sessions are spread over several workers, each one Lua state (a
// session.Table) on a goroutine of its own, so that both cores serve
// callers. A session stays on its worker for life. When the scripts or
// screens change, a new generation of workers is loaded for new callers;
// callers online keep the generation they started on until they leave.
//
// Messages leave through the outbound edge (outbound.go), which frames
// each message once for its kind of caller. Mongrel2's WebSockets are
// handled by host/wire/websocket's Layer, and phone lines by
// host/handler/lines, which the host serves through the narrow lines.Board
// interface (lines.go).
package dispatch
