// Package frontend is m2bbs's built-in front end: a small stand-in for
// Mongrel2 1.12 that callers cannot tell from Mongrel2, and that handlers
// (the m2bbs host) cannot tell from Mongrel2 either.
//
// On one TCP port it takes what Mongrel2 takes — JSON-socket frames
// ("@route {...}\x00"), XML-socket frames ("<tag ...>\x00"), Flash
// policy requests and HTTP/1.x requests — routes each by its path, and
// pushes the request to the route's handler over ZeroMQ in Mongrel2's own
// encoding, byte for byte. Handlers reply over ZeroMQ as they would to
// Mongrel2; the front end writes each reply body to the listed callers.
// When a caller goes, the handler that last served it gets Mongrel2's
// disconnect notice (or, if its route has moved since, the handler it
// moved to).
//
// Use: [Listen] binds the TCP port and, for each [Handler], a PUSH socket
// on its SendSpec and a SUB socket on its RecvSpec (package zmqtransport);
// [Server.Serve] runs until its context is done and then closes everything.
//
// The parts: frame.go parses caller input and knows nothing of sockets
// ([ParseFrame], [FrameReader]); routes.go is Mongrel2's route lookup;
// request.go builds handler messages; server.go and conn.go are the
// network side, with one reader and one writer goroutine per caller, so a
// caller who does not read delays nobody else.
//
// # Fidelity to Mongrel2: what was measured, what differs
//
// Measured against Debian's Mongrel2 1.12.2 (m2sh load/start, a raw
// ZeroMQ handler, raw TCP callers) and read in its source (src/connection.c,
// handler.c, request.c, register.c, io.c, adt/tst.c, adt/hash.c,
// http11/http11_parser.rl). The twin tests (twin_test.go) replay these
// cases against both and require identical bytes on both sides.
//
// Same as Mongrel2 (measured, and held by the twin tests):
//
//   - Requests: "SENDER ID PATH HEADERS BODY" with headers in Mongrel2's
//     order. JSON: PATH, the caller's headers, METHOD, then VERSION, URI,
//     QUERY, FRAGMENT (HTTP), PATTERN, URL_SCHEME, REMOTE_ADDR. tnetstring:
//     the same fields as a dict in the reverse order. The caller's HTTP
//     headers (names lower-cased, values as sent) come in the scan order of
//     Mongrel2's header hash table (FNV-1a, 64 chains, doubling past 128
//     names); x-forwarded-for, always the caller's address, replaces any
//     sent. A repeated header becomes a list of at most 5 values; past 1,280
//     names headers are dropped.
//   - JSON frames are not checked: "@bbs {not json}\x00" is forwarded. The
//     grammar is Mongrel2's: '@', a URI path, one space, '{', anything, and
//     the frame ends at the first "}\x00" (a NUL elsewhere is payload).
//     "@bbs [1,2]\x00", a string, a missing or doubled space, a bad route
//     byte: "400 Bad Request" (an HTTP response, even to a JSON caller),
//     then close.
//   - Size: a frame (route, space, payload, NUL) or HTTP head of more than
//     4,096 bytes (limits.buffer_size) gets 400 and is closed; an HTTP body
//     above 20,480 bytes (limits.content_length) or chunked gets "413
//     Request Entity Too Large".
//   - Routes are literal and looked up in a ternary search tree: the
//     longest route that is a prefix of the path wins ("@bbs.1", "@bbsx",
//     "/statusx" go to "@bbs" and "/status"), and a path that is a prefix
//     of a route goes to it ("@b", "@", "/" go to "@bbs" or "/status").
//     No match: "404 Not Found", then close.
//   - Errors close the caller; if a handler had served it, that handler
//     gets the disconnect notice first. Mongrel2's error bodies are sent
//     verbatim, "Server: Mongrel2/1.12.2" header included.
//   - `@route {"type":"ping"}` frames (Mongrel2's PING_PATTERN) are
//     swallowed, not forwarded.
//   - Flash: "<policy-file-request/>\x00" is answered with Mongrel2's
//     allow-all cross-domain policy plus NUL, then close; no route needed.
//   - XML frames route by "<tag" (METHOD "XML", body the frame without its
//     NUL); with no '<' route, 404.
//   - HTTP: methods of 1 to 20 upper-case letters or digits, HTTP/1.0 or
//     1.1, CRLF or bare LF, no folded headers; "Expect: 100-continue" gets
//     "HTTP/1.1 100 Continue" first, any other Expect 417. Requests on one
//     connection may follow each other (and JSON frames); the connection
//     stays open after a reply until the caller or handler closes it.
//   - Replies are parsed as Mongrel2 parses them (m2proto.ParseReply, at
//     most 128 targets). A body goes to each target byte for byte
//     (raw_payload=1); an empty body closes the target after what was
//     queued before it, without a disconnect notice; a target that is not
//     connected is answered with a disconnect notice to the replying
//     handler (Mongrel2 does this; Stats.UnknownTargets counts them).
//   - With Handler.Base64Payload (raw_payload=0) a JSON or XML caller gets
//     base64 of the body minus one trailing NUL, with no NUL after it; a
//     body of just "\x00" closes the caller. HTTP callers always get raw
//     bytes.
//   - The disconnect notice goes to the handler that last got a request
//     from the caller (measured with two handlers; see the last point
//     below for a route moved since).
//   - Conn ids count up from 1, one per accepted connection, never reused.
//     (Mongrel2 assigns them at a connection's first request or close, so
//     with concurrent callers the numbering may differ; handlers only rely
//     on ids being unique among live callers.)
//   - A caller with more than 16 replies waiting (DELIVER_OUTSTANDING_MSGS)
//     is closed.
//   - A caller quiet for 120 s (limits.min_ping) is closed (measured with
//     min_ping lowered to 3 s: closed after 4 to 5 s).
//
// Where Mongrel2 leaves a gap, the rule applies (the caller is
// closed, the handler told), and these differ on purpose:
//
//   - Idle and slow callers: Mongrel2 closes the socket under the caller's
//     task and never tells the handler (measured: no notice), which leaks
//     the handler's session; the built-in sends the notice. Mongrel2
//     checks idleness every 10 s and weighs read and write rates too; the
//     built-in closes a caller that has neither completed a frame nor been
//     written to for Limits.IdleTimeout.
//   - Mongrel2 refuses (400) a frame that needs more than three reads to
//     arrive (limits.client_read_retries); that depends on timing, so the
//     built-in takes frames however they are split.
//   - Writes time out after Limits.WriteTimeout (Mongrel2: never; its idle
//     rule ends such callers after about the same time).
//   - Past Limits.MaxConns a connection is accepted and closed at once
//     (Mongrel2 stops accepting at its file-descriptor limit).
//   - Limits a public board needs and Mongrel2 lacks (limits.go), each
//     switched off by a negative value: one address may hold at most
//     Limits.PerAddr.MaxPerAddr connections (8) and open them at
//     PerAddr.AcceptRate per second (10, bursts of 20), else it is closed
//     at once without a byte; a connection must complete its first frame
//     within Limits.FirstFrameTimeout (10 s); a JSON frame whose payload
//     is not JSON is forwarded as Mongrel2 does, but the
//     Limits.MaxBadFrames-th (3rd) is answered 400 and the caller closed.
//     Log lines such callers cause are rate-limited (package lograte).
//   - WebSocket upgrades get 400: the built-in does not speak WebSocket
//     (Mongrel2 forwards a WEBSOCKET_HANDSHAKE).
//   - Route patterns are literal prefixes; Mongrel2's regular-expression
//     routes ("/x/(.*)") are refused by Listen. When a path is a proper
//     prefix of several routes, Mongrel2 picks by the order m2sh stored
//     them, the built-in by Config.Routes order.
//   - The Host header and absolute-URI hosts are not checked against
//     virtual hosts (Mongrel2 falls back to its default host; m2bbs has
//     one).
//   - Messages for a handler that is not connected wait in the ZeroMQ
//     queue (Mongrel2 drops them); unparseable replies are dropped without
//     Mongrel2's 100 ms pause.
//   - Routes can move to another handler while callers stay connected
//     ([Server.Reroute]; Mongrel2 moves them only by a reload), and be held
//     meanwhile ([Server.Hold]): a phone line's drain. A caller's
//     disconnect notice goes to the handler serving the route of their
//     last request now, the one that took their session over; while the
//     route is held it waits for the release, after the connection has
//     closed.
package frontend
