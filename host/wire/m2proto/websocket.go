// # WebSockets behind Mongrel2 1.12
//
// Captured from Debian's Mongrel2 1.12.2 with a route '/ws()$' to a
// handler and a browser-like caller on 127.0.0.1 (host/gateway/mongrel2's
// TestWebSocketCapture replays it).
//
// Handshake. The caller's "GET /ws" with Upgrade: websocket, Connection:
// Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version reaches the handler
// as METHOD "WEBSOCKET_HANDSHAKE", with the HTTP headers (names in lower
// case: "sec-websocket-key", "origin"…), PATH, URI, QUERY, PATTERN and
// REMOTE_ADDR, and a BODY that is the Sec-WebSocket-Accept value Mongrel2
// computed from the key:
//
//	test-handler 2 /ws 338:{"PATH":"/ws",…,"sec-websocket-key":"dGhlIHNhbXBsZSBub25jZQ==",…,"METHOD":"WEBSOCKET_HANDSHAKE",…},28:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=,
//
// Mongrel2 answers nothing itself: the handler replies with the whole
// "HTTP/1.1 101 Switching Protocols" response ([AppendWebSocketHandshake]),
// which Mongrel2 passes on byte for byte.
//
// Frames from the caller. Each message then arrives as METHOD "WEBSOCKET"
// with the handshake's headers plus FLAGS, the frame's first byte written
// "0x81" (FIN + text; [Request.WebSocketFlags]), and a BODY that is the
// unmasked payload:
//
//	test-handler 2 /ws 343:{"PATH":"/ws",…,"FLAGS":"0x81",…,"METHOD":"WEBSOCKET",…},30:{"type":"msg","msg":"connect"},
//
// Mongrel2 joins a fragmented message itself (text "frag1" without FIN
// then a continuation "frag2" arrive as one "0x81" with body
// "frag1frag2"). It checks nothing else: binary ("0x82") frames, text that
// is not UTF-8 and 3 MiB payloads are forwarded as they are, so the
// handler applies its own limits. Ping ("0x89") and close ("0x88", BODY
// the status code and reason) are forwarded too: Mongrel2 neither answers
// a ping nor closes on a close frame.
//
// Frames to the caller. Whatever BODY the handler sends reaches the
// caller as it is, with raw_payload=1 or 0 alike (Mongrel2 base64s only
// JSON-socket replies): the handler sends whole, unmasked frames
// ([AppendWebSocketFrame], [AppendWebSocketClose]) and answers pings with
// pongs itself. An empty BODY closes the TCP connection, as for any
// caller, and no disconnect notice follows.
//
// The caller going away. When the caller's TCP connection closes, after a
// close frame or not, the handler gets the same notice as for a
// JSON-socket caller:
//
//	test-handler 2 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},
//
// Routes. Mongrel2 routes are path prefixes: of several, it takes the
// longest that is a prefix of the request's path, then checks that
// route's pattern (the route from its first '(' on) and answers 404 if it
// fails, without trying shorter routes. A route '/ws/1' alone also takes
// /ws/12 and /ws/1x; '/ws/1()$' takes exactly /ws/1 (and /ws/1?query).
// Beside a Dir route on '/', the '/ws…' routes win for their paths and the
// Dir serves the rest.
package m2proto

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// WebSocket METHOD values Mongrel2 gives a handler.
const (
	// MethodWebSocketHandshake is the METHOD of a caller's upgrade request.
	MethodWebSocketHandshake = "WEBSOCKET_HANDSHAKE"
	// MethodWebSocket is the METHOD of every frame after the handshake.
	MethodWebSocket = "WEBSOCKET"
)

// IsWebSocketHandshake reports whether r is a caller's WebSocket upgrade
// request, which the handler must answer with AppendWebSocketHandshake.
func (r *Request) IsWebSocketHandshake() bool { return r.Method() == MethodWebSocketHandshake }

// IsWebSocketFrame reports whether r is one WebSocket message from a
// caller whose handshake is done: its FLAGS header holds the frame's first
// byte and its Body the unmasked payload.
func (r *Request) IsWebSocketFrame() bool { return r.Method() == MethodWebSocket }

// WebSocketFlags parses r's FLAGS header (see ParseWebSocketFlags).
func (r *Request) WebSocketFlags() (WebSocketFlags, error) {
	return ParseWebSocketFlags(r.Header("FLAGS"))
}

// Opcode is a WebSocket frame's opcode (RFC 6455, section 5.2).
type Opcode byte

// The opcodes of RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (close, ping, pong or a
// reserved one, 0x8 to 0xF), whose payload may be at most
// MaxControlPayload bytes and which may not be fragmented.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// String returns the opcode's name, or "opcode 0xN" for a reserved one.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode 0x" + strconv.FormatUint(uint64(o), 16)
}

// WebSocketFlags is the first byte of a WebSocket frame: FIN, three
// reserved bits and the opcode.
type WebSocketFlags byte

// Fin reports whether the frame is the last of its message.
func (f WebSocketFlags) Fin() bool { return f&0x80 != 0 }

// Reserved returns the RSV1-3 bits (0x70), which must be zero when no
// extension was negotiated (and m2bbs negotiates none).
func (f WebSocketFlags) Reserved() byte { return byte(f) & 0x70 }

// Opcode returns the frame's opcode.
func (f WebSocketFlags) Opcode() Opcode { return Opcode(f & 0x0F) }

// ParseWebSocketFlags parses a FLAGS header as Mongrel2 writes it: "0x"
// then one or two hex digits ("0x81"). Errors are *ProtocolError with Op
// "websocket flags".
func ParseWebSocketFlags(s string) (WebSocketFlags, error) {
	const op = "websocket flags"
	hex, ok := cutPrefixFold(s, "0x")
	if !ok || len(hex) == 0 || len(hex) > 2 {
		return 0, malformed(op, 0, "want 0x and one or two hex digits, got %q", truncateForError(s))
	}
	var v byte
	for i := 0; i < len(hex); i++ {
		d, ok := hexDigit(hex[i])
		if !ok {
			return 0, malformed(op, 2+i, "want a hex digit, got %q", hex[i])
		}
		v = v<<4 | d
	}
	return WebSocketFlags(v), nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) {
		return s, false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return s, false
		}
	}
	return s[len(prefix):], true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// truncateForError keeps error messages short whatever the input.
func truncateForError(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// websocketGUID is the constant RFC 6455 appends to the caller's key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// ValidWebSocketKey reports whether key is a Sec-WebSocket-Key as RFC 6455
// requires: the base64 of 16 bytes.
func ValidWebSocketKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(key)
	return err == nil && len(b) == 16
}

// WebSocketAccept returns the Sec-WebSocket-Accept value for a caller's
// Sec-WebSocket-Key: base64(SHA-1(key + the RFC 6455 GUID)). Mongrel2
// computes the same value and sends it as the handshake's body.
func WebSocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// AppendWebSocketHandshake appends the reply BODY that accepts a WebSocket
// handshake:
//
//	HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ACCEPT\r\n\r\n
//
// accept is WebSocketAccept of the caller's key; CR and LF are dropped
// from it so it cannot inject headers.
func AppendWebSocketHandshake(dst []byte, accept string) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	for i := 0; i < len(accept); i++ {
		if c := accept[i]; c != '\r' && c != '\n' {
			dst = append(dst, c)
		}
	}
	return append(dst, "\r\n\r\n"...)
}

// AppendWebSocketFrame appends one whole, unmasked frame (FIN set) as a
// server sends it: the opcode, the payload length in 7, 16 or 64 bits as
// RFC 6455 requires (the shortest that holds it), then the payload.
func AppendWebSocketFrame(dst []byte, op Opcode, payload []byte) []byte {
	dst = append(dst, 0x80|byte(op&0x0F))
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// CloseCode is the status code of a WebSocket close frame (RFC 6455,
// section 7.4).
type CloseCode uint16

// Close codes m2bbs sends or expects.
const (
	CloseNormal          CloseCode = 1000
	CloseGoingAway       CloseCode = 1001
	CloseProtocolError   CloseCode = 1002
	CloseUnsupportedData CloseCode = 1003
	// CloseNoStatus is what a close frame without a payload means; it is
	// never sent.
	CloseNoStatus        CloseCode = 1005
	CloseInvalidPayload  CloseCode = 1007
	ClosePolicyViolation CloseCode = 1008
	CloseMessageTooBig   CloseCode = 1009
	CloseInternalError   CloseCode = 1011
)

// Sendable reports whether c may appear in a close frame: 1000-1003,
// 1007-1014, or 3000-4999 (registered and private codes).
func (c CloseCode) Sendable() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// MaxControlPayload is the most payload bytes a control frame (close,
// ping, pong) may carry.
const MaxControlPayload = 125

// AppendWebSocketClose appends a close frame with code and reason. The
// reason is cut (at a rune boundary) so that the payload stays within
// MaxControlPayload, and invalid UTF-8 in it is replaced.
func AppendWebSocketClose(dst []byte, code CloseCode, reason string) []byte {
	var payload [MaxControlPayload]byte
	binary.BigEndian.PutUint16(payload[:], uint16(code))
	n := 2
	for _, r := range reason {
		if n+utf8.RuneLen(r) > len(payload) {
			break
		}
		n += utf8.EncodeRune(payload[n:], r)
	}
	return AppendWebSocketFrame(dst, OpClose, payload[:n])
}

// ParseWebSocketClose reads a close frame's payload: empty (CloseNoStatus,
// no reason), or a sendable status code and a UTF-8 reason. Errors are
// *ProtocolError with Op "websocket close"; the caller answers them with
// CloseProtocolError.
func ParseWebSocketClose(payload []byte) (CloseCode, string, error) {
	const op = "websocket close"
	switch {
	case len(payload) == 0:
		return CloseNoStatus, "", nil
	case len(payload) == 1:
		return 0, "", malformed(op, 1, "payload of 1 byte cannot hold a status code")
	case len(payload) > MaxControlPayload:
		return 0, "", tooLarge(op, MaxControlPayload, "payload of %d bytes exceeds %d", len(payload), MaxControlPayload)
	}
	code := CloseCode(binary.BigEndian.Uint16(payload))
	if !code.Sendable() {
		return 0, "", malformed(op, 0, "status code %d may not be sent", code)
	}
	if !utf8.Valid(payload[2:]) {
		return 0, "", malformed(op, 2, "reason is not UTF-8")
	}
	return code, string(payload[2:]), nil
}

// WebSocketFrame is one frame as it travels on the caller's TCP
// connection.
type WebSocketFrame struct {
	Flags WebSocketFlags
	// Masked says the frame carried a masking key (callers' frames must);
	// Payload is unmasked either way.
	Masked  bool
	Payload []byte
}

// MaxWebSocketFrame bounds the payload ParseWebSocketFrame accepts.
const MaxWebSocketFrame = MaxMessageBytes

// ErrShortFrame is returned by ParseWebSocketFrame when the input ends
// before the frame does: read more and call it again.
var ErrShortFrame = errors.New("m2proto: websocket frame incomplete")

// ParseWebSocketFrame reads the frame at the start of b, as it travels on
// a caller's TCP connection (masked or not), and returns it with the
// number of bytes it took. It returns ErrShortFrame if b holds only part
// of a frame, and a *ProtocolError (Op "websocket frame") for a payload
// length that is not minimal or is over MaxWebSocketFrame, or a control
// frame that is fragmented or longer than MaxControlPayload. The payload
// is a copy: b may be reused. m2bbs itself gets frames already parsed by
// Mongrel2; this is for tests and tools that read a raw WebSocket stream.
func ParseWebSocketFrame(b []byte) (WebSocketFrame, int, error) {
	const op = "websocket frame"
	if len(b) < 2 {
		return WebSocketFrame{}, 0, ErrShortFrame
	}
	f := WebSocketFrame{Flags: WebSocketFlags(b[0]), Masked: b[1]&0x80 != 0}
	n := uint64(b[1] & 0x7F)
	off := 2
	switch n {
	case 126:
		if len(b) < off+2 {
			return WebSocketFrame{}, 0, ErrShortFrame
		}
		n = uint64(binary.BigEndian.Uint16(b[off:]))
		if n <= 125 {
			return WebSocketFrame{}, 0, malformed(op, off, "16-bit length %d is not minimal", n)
		}
		off += 2
	case 127:
		if len(b) < off+8 {
			return WebSocketFrame{}, 0, ErrShortFrame
		}
		n = binary.BigEndian.Uint64(b[off:])
		if n <= 0xFFFF {
			return WebSocketFrame{}, 0, malformed(op, off, "64-bit length %d is not minimal", n)
		}
		off += 8
	}
	if n > MaxWebSocketFrame {
		return WebSocketFrame{}, 0, tooLarge(op, 1, "payload of %d bytes exceeds %d", n, MaxWebSocketFrame)
	}
	if op := f.Flags.Opcode(); op.IsControl() && (n > MaxControlPayload || !f.Flags.Fin()) {
		return WebSocketFrame{}, 0, malformed("websocket frame", 0, "%s frame fragmented or longer than %d bytes", op, MaxControlPayload)
	}
	var mask [4]byte
	if f.Masked {
		if len(b) < off+4 {
			return WebSocketFrame{}, 0, ErrShortFrame
		}
		copy(mask[:], b[off:])
		off += 4
	}
	if uint64(len(b)-off) < n {
		return WebSocketFrame{}, 0, ErrShortFrame
	}
	end := off + int(n)
	f.Payload = append([]byte{}, b[off:end]...)
	if f.Masked {
		for i := range f.Payload {
			f.Payload[i] ^= mask[i&3]
		}
	}
	return f, end, nil
}
