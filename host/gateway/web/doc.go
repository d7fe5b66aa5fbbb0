// Package web is m2bbs's browser terminal: one green-on-black page that
// dials the board like a modem (ATDT, BUSY, CONNECT) and plays it in
// xterm.js, and the WebSocket bridge that carries the page's calls to the
// BBS.
//
// The URLs are the same behind the built-in front end and behind a real
// Mongrel2, so the page works unchanged on both:
//
//	/          the page (index.html), its assets beside it (bbs.js, bbs.css,
//	           vendor/xterm.js, ...), all fetched with relative URLs
//	/lines     the phone-line directory (served by the host; see package host/handler/lines)
//	/ws        a WebSocket to the single-host route @bbs
//	/ws/N      a WebSocket to phone line N (route @bbs.N)
//
// On a WebSocket the page sends the classic client's JSON requests, one per
// text frame: {"type":"msg","msg":"connect"} first, then
// {"type":"msg","msg":LINE} for each line typed. The server sends the BBS's
// messages, one JSON object per text frame:
// {"type":"screen"|"prompt"|"exit","msg":TEXT,"pchar":"> ","secret":true}
// (pchar and secret only when set). TEXT carries ANSI colour codes. After
// an exit message the server closes the WebSocket; a full line answers
// "connect" with an exit message (the busy screen) at once.
//
// [NewHandler] serves all of this on the built-in front end: the page from
// files embedded in the binary ([Files]), and each WebSocket bridged to a
// connection that [Config.Dial] opens to the BBS, on which the bridge is
// an ordinary classic JSON-socket caller (package classic). Any other path
// goes to [Config.Fallback]; [BoardProxy] passes them to the board with
// the caller's real address, never as the loopback. A WebSocket from a
// page of another site gets 403 (the rule is host/shared/access.Origins, the
// same as behind Mongrel2).
//
// The page's xterm.js assets come from npm (package.json and
// package-lock.json in this folder); `make web` copies them into
// static/vendor/ before the Go build embeds them. Without them the package
// still builds, and the page says that the terminal did not load.
package web
