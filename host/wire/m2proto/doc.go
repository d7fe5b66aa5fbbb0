// Package m2proto encodes and decodes the messages a Mongrel2 handler
// exchanges with Mongrel2 over ZeroMQ. It works on []byte only and knows
// nothing of sockets: the transport lives in package zmqtransport.
//
// # Requests (Mongrel2 → handler)
//
// Mongrel2 pushes one message per request:
//
//	SENDER CONN_ID PATH HEADERS BODY
//
// SENDER, CONN_ID and PATH are separated by single spaces. HEADERS is a
// tnetstring: either a string (`LEN:{...},`) holding a JSON object, or, with
// the Handler's protocol='tnetstring', a dict (`LEN:...}`). BODY is a
// netstring (`LEN:BYTES,`). [ParseRequest] decodes it into a [Request];
// [AppendRequest] is its inverse and reproduces Mongrel2's own encoding byte
// for byte (the built-in front end relies on that).
//
// # Replies (handler → Mongrel2)
//
// A handler publishes
//
//	SENDER LEN:ID ID ID, BODY
//
// which Mongrel2 delivers to every listed connection. An empty BODY closes
// the connections. [AppendReply] builds one, [ParseReply] reads one the way
// Mongrel2 does (for the built-in front end and for tests).
//
// # Client frames
//
// For Mongrel2's JSON-socket callers ("@route {json}\x00"), the reply body is
// a frame the classic client understands: base64(JSON)+"\x00", or raw JSON
// plus "\x00" ([AppendClientFrame]). For HTTP routes the reply body is a full
// HTTP response ([AppendHTTPResponse]).
//
// # Limits and errors
//
// Every parser refuses input above a documented limit: [MaxMessageBytes] for
// a whole message, [MaxHeaders] headers per request, [MaxReplyTargets]
// connection ids per reply and [MaxNestingDepth] levels of nested tnetstring
// or JSON values. Every parse error is a *[ProtocolError] that says what was
// wrong and at which byte offset; errors.Is(err, [ErrMalformed]) or
// errors.Is(err, [ErrTooLarge]) tells the two kinds apart.
//
// Header names and values are kept as the bytes Mongrel2 sent: they are not
// checked for valid UTF-8, because Mongrel2 copies them from the caller
// without checking either.
package m2proto
