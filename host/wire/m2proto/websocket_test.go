package m2proto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Captured from Mongrel2 1.12.2 (see the WebSockets section of the
// package doc); header values shortened where they do not matter.
const (
	capturedHandshake = `test-handler 2 /ws 338:{"PATH":"/ws","x-forwarded-for":"127.0.0.1","origin":"http://localhost","connection":"Upgrade","sec-websocket-version":"13","sec-websocket-key":"dGhlIHNhbXBsZSBub25jZQ==","host":"localhost","upgrade":"websocket","METHOD":"WEBSOCKET_HANDSHAKE","VERSION":"HTTP/1.1","URI":"/ws","PATTERN":"/ws","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},28:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=,`
	capturedTextFrame = `test-handler 2 /ws 343:{"PATH":"/ws","x-forwarded-for":"127.0.0.1","FLAGS":"0x81","origin":"http://localhost","connection":"Upgrade","sec-websocket-version":"13","sec-websocket-key":"dGhlIHNhbXBsZSBub25jZQ==","host":"localhost","upgrade":"websocket","METHOD":"WEBSOCKET","VERSION":"HTTP/1.1","URI":"/ws","PATTERN":"/ws","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},30:{"type":"msg","msg":"connect"},`
	// Bytes the caller received for the handler's replies.
	capturedWorld = "\x81\x05world"
	capturedPong  = "\x8a\x02pi"
	capturedClose = "\x88\x02\x03\xe8"
)

func TestCapturedWebSocketRequests(t *testing.T) {
	hs, err := ParseRequest([]byte(capturedHandshake))
	if err != nil {
		t.Fatal(err)
	}
	if !hs.IsWebSocketHandshake() || hs.IsWebSocketFrame() || hs.IsHTTP() || hs.IsJSON() {
		t.Errorf("handshake classified wrongly: method %q", hs.Method())
	}
	key := hs.Header("sec-websocket-key")
	if !ValidWebSocketKey(key) || WebSocketAccept(key) != string(hs.Body) {
		t.Errorf("accept for %q = %q, Mongrel2 sent %q", key, WebSocketAccept(key), hs.Body)
	}

	fr, err := ParseRequest([]byte(capturedTextFrame))
	if err != nil {
		t.Fatal(err)
	}
	if !fr.IsWebSocketFrame() || fr.IsWebSocketHandshake() || fr.IsHTTP() {
		t.Errorf("frame classified wrongly: method %q", fr.Method())
	}
	flags, err := fr.WebSocketFlags()
	if err != nil || !flags.Fin() || flags.Opcode() != OpText || flags.Reserved() != 0 {
		t.Errorf("flags = %#x, %v; want FIN text", byte(flags), err)
	}
	if string(fr.Body) != `{"type":"msg","msg":"connect"}` {
		t.Errorf("body = %q", fr.Body)
	}
}

func TestParseWebSocketFlags(t *testing.T) {
	tests := []struct {
		in      string
		want    WebSocketFlags
		fin     bool
		op      Opcode
		wantErr bool
	}{
		{"0x81", 0x81, true, OpText, false},
		{"0x82", 0x82, true, OpBinary, false},
		{"0x88", 0x88, true, OpClose, false},
		{"0x89", 0x89, true, OpPing, false},
		{"0x8a", 0x8A, true, OpPong, false},
		{"0x8A", 0x8A, true, OpPong, false},
		{"0X1", 0x01, false, OpText, false},
		{"0x0", 0, false, OpContinuation, false},
		{"0xc1", 0xC1, true, OpText, false}, // RSV1 set: parsed, refused by the host
		{"", 0, false, 0, true},
		{"0x", 0, false, 0, true},
		{"0x181", 0, false, 0, true},
		{"81", 0, false, 0, true},
		{"0xg1", 0, false, 0, true},
		{"0x-1", 0, false, 0, true},
		{"129", 0, false, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseWebSocketFlags(tt.in)
		if tt.wantErr {
			var pe *ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseWebSocketFlags(%q) = %#x, %v; want a malformed error", tt.in, byte(got), err)
			}
			continue
		}
		if err != nil || got != tt.want || got.Fin() != tt.fin || got.Opcode() != tt.op {
			t.Errorf("ParseWebSocketFlags(%q) = %#x (fin %v, %v), %v; want %#x", tt.in, byte(got), got.Fin(), got.Opcode(), err, byte(tt.want))
		}
	}
}

func TestWebSocketAccept(t *testing.T) {
	// The example of RFC 6455, section 1.3.
	if got := WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("accept = %q", got)
	}
	for key, want := range map[string]bool{
		"dGhlIHNhbXBsZSBub25jZQ==": true,
		"AAAAAAAAAAAAAAAAAAAAAA==": true,
		"dGhlIHNhbXBsZSBub25jZQ":   false, // unpadded
		"dGhlIHNhbXBsZSBub25jZQ=":  false,
		"dGhlIHNhbXBsZSBub25jZXg=": false, // 17 bytes
		"dGhlIHNhbXBsZSBub25jZ!==": false,
		"":                         false,
	} {
		if got := ValidWebSocketKey(key); got != want {
			t.Errorf("ValidWebSocketKey(%q) = %v", key, got)
		}
	}
}

func TestAppendWebSocketHandshake(t *testing.T) {
	got := AppendWebSocketHandshake([]byte("x"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
	want := "xHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if evil := AppendWebSocketHandshake(nil, "a\r\nSet-Cookie: x"); bytes.Contains(evil, []byte("\r\nSet-Cookie")) {
		t.Errorf("CRLF in accept injected a header: %q", evil)
	}
}

func TestAppendWebSocketFrame(t *testing.T) {
	long := func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }
	tests := []struct {
		op      Opcode
		payload []byte
		header  string
	}{
		{OpText, []byte("world"), "\x81\x05"},
		{OpPong, []byte("pi"), "\x8a\x02"},
		{OpText, nil, "\x81\x00"},
		{OpText, long(125), "\x81\x7d"},
		{OpText, long(126), "\x81\x7e\x00\x7e"},
		{OpBinary, long(0xFFFF), "\x82\x7e\xff\xff"},
		{OpText, long(0x10000), "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
	}
	for _, tt := range tests {
		got := AppendWebSocketFrame([]byte("pre"), tt.op, tt.payload)
		want := "pre" + tt.header + string(tt.payload)
		if string(got) != want {
			t.Errorf("%v frame of %d bytes: header %q, want %q", tt.op, len(tt.payload), got[3:min(len(got), 3+10)], tt.header)
		}
		f, n, err := ParseWebSocketFrame(got[3:])
		if err != nil || n != len(got)-3 || f.Flags.Opcode() != tt.op || !f.Flags.Fin() || f.Masked || !bytes.Equal(f.Payload, tt.payload) {
			t.Errorf("%v frame of %d bytes does not parse back: %v, n %d", tt.op, len(tt.payload), err, n)
		}
	}
	if got := AppendWebSocketFrame(nil, OpText, []byte("world")); string(got) != capturedWorld {
		t.Errorf("got %q, want the captured %q", got, capturedWorld)
	}
}

func TestWebSocketClose(t *testing.T) {
	if got := AppendWebSocketClose(nil, CloseNormal, ""); string(got) != capturedClose {
		t.Errorf("close = %q, want %q", got, capturedClose)
	}
	long := AppendWebSocketClose(nil, CloseMessageTooBig, strings.Repeat("é", 100))
	f, _, err := ParseWebSocketFrame(long)
	if err != nil || len(f.Payload) > MaxControlPayload || !utf8.Valid(f.Payload[2:]) {
		t.Errorf("long reason: payload %d bytes, err %v", len(f.Payload), err)
	}
	if code, reason, err := ParseWebSocketClose(f.Payload); err != nil || code != CloseMessageTooBig || !strings.HasPrefix(reason, "éé") {
		t.Errorf("parse back = %d %q %v", code, reason, err)
	}

	tests := []struct {
		payload string
		code    CloseCode
		reason  string
		wantErr bool
	}{
		{"", CloseNoStatus, "", false},
		{"\x03\xe8bye", CloseNormal, "bye", false},
		{"\x03\xe9", CloseGoingAway, "", false},
		{"\x0f\xa0private", 4000, "private", false},
		{"\x03", 0, "", true},
		{"\x03\xed", 0, "", true}, // 1005 may not be sent
		{"\x03\xee", 0, "", true}, // 1006 neither
		{"\x00\x00", 0, "", true},
		{"\x03\xe8\xff", 0, "", true},
		{"\x03\xe8" + strings.Repeat("x", 124), 0, "", true},
	}
	for _, tt := range tests {
		code, reason, err := ParseWebSocketClose([]byte(tt.payload))
		if tt.wantErr != (err != nil) || code != tt.code || reason != tt.reason {
			t.Errorf("ParseWebSocketClose(%q) = %d %q %v", tt.payload, code, reason, err)
		}
	}
}

func TestParseWebSocketFrame(t *testing.T) {
	// A caller's masked text frame "Hello" (RFC 6455, section 5.7).
	masked := []byte("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
	f, n, err := ParseWebSocketFrame(masked)
	if err != nil || n != len(masked) || !f.Masked || string(f.Payload) != "Hello" {
		t.Fatalf("masked Hello: %+v %d %v", f, n, err)
	}
	for i := range len(masked) {
		if _, _, err := ParseWebSocketFrame(masked[:i]); !errors.Is(err, ErrShortFrame) {
			t.Errorf("first %d bytes: err %v, want ErrShortFrame", i, err)
		}
	}
	for name, in := range map[string]string{
		"16-bit length not minimal": "\x81\x7e\x00\x05hello",
		"64-bit length not minimal": "\x81\x7f\x00\x00\x00\x00\x00\x00\x01\x00",
		"fragmented ping":           "\x09\x00",
		"long close":                "\x88\x7e\x00\x7e",
	} {
		if _, _, err := ParseWebSocketFrame([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
	huge := "\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00"
	if _, _, err := ParseWebSocketFrame([]byte(huge)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4 GiB frame: err %v, want ErrTooLarge", err)
	}
}
