package m2proto

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Limits on what ParseRequest accepts.
const (
	// MaxMessageBytes is the largest request or reply accepted, in bytes.
	// Mongrel2's default limits.content_length is 20 KiB; this leaves room
	// for an operator who raises it, and bounds what one bad message costs.
	MaxMessageBytes = 2 << 20

	// MaxHeaders is the most headers one request may carry: Mongrel2's own
	// default limits.header_count (128 * 10, src/request.c).
	MaxHeaders = 1280

	// MaxConnIDLength is the most digits a connection id may have. Mongrel2
	// numbers connections with 32-bit integers (10 digits); 20 digits hold
	// any uint64.
	MaxConnIDLength = 20
)

// Header is one request header, as Mongrel2 sent it.
type Header struct {
	Name, Value string
}

// Request is one message from Mongrel2 to a handler.
type Request struct {
	// Sender is the UUID (send_ident) of the Mongrel2 handler entry.
	Sender string
	// ConnID identifies the caller's connection: a decimal number.
	ConnID string
	// Path is the request path, or the JSON route such as "@bbs"; "@*" for a
	// disconnect notice.
	Path string
	// Headers are in wire order, so AppendRequest can re-encode them byte
	// for byte. A header value that was not a string on the wire (a number,
	// or the list Mongrel2 sends for a repeated header) holds its JSON text.
	Headers []Header
	// Body is the request body. ParseRequest returns a sub-slice of the
	// message it parsed: keep that message unchanged while Body is in use.
	Body []byte
}

// Header returns the value of the first header named exactly name, or "".
func (r *Request) Header(name string) string {
	for _, h := range r.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Method returns the METHOD header: "JSON" for JSON-socket messages, "XML"
// for XML ones, "GET", "POST"... for HTTP, "WEBSOCKET_HANDSHAKE" or
// "WEBSOCKET" for WebSocket routes.
func (r *Request) Method() string { return r.Header("METHOD") }

// IsJSON reports whether the request came from a JSON-socket caller (or is
// one of Mongrel2's own JSON notices, such as a disconnect).
func (r *Request) IsJSON() bool { return r.Method() == "JSON" }

// disconnectNotice is the body of Mongrel2's disconnect notice
// (src/handler.c, Handler_notify_leave).
const disconnectNotice = `{"type":"disconnect"}`

// IsDisconnect reports whether the request is Mongrel2's notice that the
// caller hung up: a JSON message whose body is an object with "type" equal
// to "disconnect".
func (r *Request) IsDisconnect() bool {
	if !r.IsJSON() || !bytes.Contains(r.Body, []byte("disconnect")) {
		return false
	}
	if string(r.Body) == disconnectNotice {
		return true // as Mongrel2 writes it: no need to parse it
	}
	var msg map[string]any
	if err := json.Unmarshal(r.Body, &msg); err != nil {
		return false
	}
	return msg["type"] == "disconnect"
}

// IsHTTP reports whether the request is an HTTP request: its METHOD is a
// method token as Mongrel2's HTTP parser accepts one (1 to 20 upper-case
// letters, digits or "$-_.", so GET, POST, HEAD, PUT, DELETE, OPTIONS,
// PATCH and extension methods), other than JSON, XML and the WEBSOCKET*
// methods.
func (r *Request) IsHTTP() bool {
	m := r.Method()
	if len(m) == 0 || len(m) > 20 || m == "JSON" || m == "XML" || strings.HasPrefix(m, "WEBSOCKET") {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("$-_.", c) >= 0) {
			return false
		}
	}
	return true
}

// ParseRequest decodes one message from Mongrel2:
//
//	SENDER CONN_ID PATH HEADERS BODY
//
// SENDER and PATH are non-empty and hold no space; CONN_ID is 1 to
// [MaxConnIDLength] decimal digits; HEADERS is either a tnetstring string
// holding a JSON object (Mongrel2's default) or a tnetstring dict
// (protocol='tnetstring'); BODY is a netstring `LEN:BYTES,` and must end the
// message. The message may be at most [MaxMessageBytes] long and carry at
// most [MaxHeaders] headers. Errors are *[ProtocolError] with Op "request".
func ParseRequest(msg []byte) (*Request, error) {
	const op = "request"
	if len(msg) > MaxMessageBytes {
		return nil, tooLarge(op, MaxMessageBytes, "message of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	sender, off, err := requestToken(msg, 0, "sender")
	if err != nil {
		return nil, err
	}
	connID, off, err := requestToken(msg, off, "conn id")
	if err != nil {
		return nil, err
	}
	if len(connID) > MaxConnIDLength {
		return nil, tooLarge(op, off-len(connID)-1, "conn id longer than %d digits", MaxConnIDLength)
	}
	if !allDigits(connID) {
		return nil, malformed(op, off-len(connID)-1, "conn id %q is not a decimal number", connID)
	}
	path, off, err := requestToken(msg, off, "path")
	if err != nil {
		return nil, err
	}

	hdr, err := splitTNet(op, msg, off)
	if err != nil {
		return nil, err
	}
	var headers []Header
	switch hdr.tag {
	case tagString:
		headers, err = parseJSONHeaders(msg, hdr.start, hdr.end)
	case tagDict:
		headers, err = parseTNetHeaders(msg, hdr)
	default:
		err = malformed(op, hdr.end, "headers must be a JSON string or a tnetstring dict, got type %q", hdr.tag)
	}
	if err != nil {
		return nil, err
	}

	body, err := splitTNet(op, msg, hdr.next())
	if err != nil {
		return nil, err
	}
	if body.tag != tagString {
		return nil, malformed(op, body.end, "body must end with ',', got %q", body.tag)
	}
	if body.next() != len(msg) {
		return nil, malformed(op, body.next(), "%d bytes of trailing data after the body", len(msg)-body.next())
	}
	return &Request{
		Sender:  string(sender),
		ConnID:  string(connID),
		Path:    string(path),
		Headers: headers,
		Body:    msg[body.start:body.end:body.end],
	}, nil
}

// requestToken reads the space-terminated, non-empty field at msg[off] and
// returns it with the offset after the space.
func requestToken(msg []byte, off int, what string) ([]byte, int, error) {
	i := bytes.IndexByte(msg[off:], ' ')
	if i < 0 {
		return nil, 0, malformed("request", len(msg), "truncated: missing space after %s", what)
	}
	if i == 0 {
		return nil, 0, malformed("request", off, "empty %s", what)
	}
	return msg[off : off+i], off + i + 1, nil
}

// HeaderFormat selects how AppendRequest encodes headers.
type HeaderFormat int

const (
	// JSONHeaders writes headers as a JSON object inside a tnetstring
	// string, as Mongrel2 does by default.
	JSONHeaders HeaderFormat = iota
	// TNetstringHeaders writes headers as a tnetstring dict, as Mongrel2
	// does for a Handler with protocol='tnetstring'.
	TNetstringHeaders
)

// AppendRequest appends r in Mongrel2's wire format to dst: the inverse of
// ParseRequest. With JSONHeaders the headers are written as Mongrel2 writes
// them — compact, in order, with a backslash before '\' and '"' and every
// other byte as it is — so a request Mongrel2 produced re-encodes to the
// same bytes. r's fields must meet ParseRequest's rules (no spaces in
// Sender, ConnID and Path; a numeric ConnID) for the result to parse.
func AppendRequest(dst []byte, r *Request, f HeaderFormat) []byte {
	dst = appendRequestStart(dst, r.Sender, r.ConnID, r.Path)
	if f == TNetstringHeaders {
		dst = appendTNetHeaders(dst, r.Headers)
	} else {
		start := len(dst)
		dst = appendJSONHeaders(dst, r.Headers)
		dst = wrapTNet(dst, start, tagString)
	}
	return appendTNetString(dst, r.Body)
}
