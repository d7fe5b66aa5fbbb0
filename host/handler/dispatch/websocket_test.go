package dispatch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/websocket"
)

// wsKey is the example key of RFC 6455; Mongrel2 sends its accept value
// as the handshake's body.
const (
	wsKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	wsAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// wsHeaders are the headers Mongrel2 sends with a WebSocket handshake or
// frame (captured; see package m2proto).
func wsHeaders(flags string) []m2proto.Header {
	hs := []m2proto.Header{
		{Name: "sec-websocket-key", Value: wsKey}, {Name: "sec-websocket-version", Value: "13"},
		{Name: "upgrade", Value: "websocket"}, {Name: "connection", Value: "Upgrade"},
	}
	if flags != "" {
		hs = append(hs, m2proto.Header{Name: "FLAGS", Value: flags})
	}
	return hs
}

func (b *board) wsHandshake(connID string) {
	b.ft.in <- request(m2proto.MethodWebSocketHandshake, connID, "/ws", wsAccept, wsHeaders("")...)
}

func (b *board) wsFrame(connID, flags, payload string) {
	b.ft.in <- request(m2proto.MethodWebSocket, connID, "/ws", payload, wsHeaders(flags)...)
}

func (b *board) wsSay(connID, text string) {
	body, _ := json.Marshal(map[string]string{"type": "msg", "msg": text})
	b.wsFrame(connID, "0x81", string(body))
}

// sentTo is one reply the host sent, as raw bytes, to one conn id.
type sentTo struct {
	connID string
	body   []byte
}

// wsWatch reads the host's replies in order, raw: fakeTransport.waitFor
// decodes every reply as a classic frame, which WebSocket frames are not.
type wsWatch struct {
	ft   *fakeTransport
	seen int
}

// next returns the next reply to connID (skipping others).
func (w *wsWatch) next(t *testing.T, connID string) []byte {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.ft.mu.Lock()
		sent, notify := w.ft.sent[w.seen:], w.ft.notify
		w.ft.mu.Unlock()
		for _, raw := range sent {
			w.seen++
			_, ids, body, err := m2proto.ParseReply(raw)
			if err != nil {
				t.Fatalf("reply %q: %v", raw, err)
			}
			for _, id := range ids {
				if id == connID {
					return body
				}
			}
		}
		select {
		case <-notify:
		case <-deadline:
			t.Fatalf("no reply to conn %s", connID)
		}
	}
}

// frame reads the next reply to connID as one whole server frame.
func (w *wsWatch) frame(t *testing.T, connID string) m2proto.WebSocketFrame {
	t.Helper()
	body := w.next(t, connID)
	f, n, err := m2proto.ParseWebSocketFrame(body)
	if err != nil || n != len(body) || f.Masked || !f.Flags.Fin() {
		t.Fatalf("reply to %s is not one whole unmasked frame: %q (%v)", connID, body, err)
	}
	return f
}

// message reads the next reply to connID as a text frame holding one
// classic JSON message.
func (w *wsWatch) message(t *testing.T, connID string) (kind, text string) {
	t.Helper()
	f := w.frame(t, connID)
	var m struct{ Type, Msg string }
	if f.Flags.Opcode() != m2proto.OpText || json.Unmarshal(f.Payload, &m) != nil {
		t.Fatalf("reply to %s is not a text frame of JSON: %v %q", connID, f.Flags.Opcode(), f.Payload)
	}
	return m.Type, m.Msg
}

// closed checks that the next replies to connID are a close frame with
// code, then the hang-up.
func (w *wsWatch) closed(t *testing.T, connID string, code m2proto.CloseCode) {
	t.Helper()
	f := w.frame(t, connID)
	got, _, err := m2proto.ParseWebSocketClose(f.Payload)
	if f.Flags.Opcode() != m2proto.OpClose || err != nil || got != code {
		t.Fatalf("want a close frame %d, got %v %q (%v)", code, f.Flags.Opcode(), f.Payload, err)
	}
	if body := w.next(t, connID); len(body) != 0 {
		t.Fatalf("want the hang-up after the close frame, got %q", body)
	}
}

// awaitNoSession waits until the host has no session and no WebSocket
// caller left (a session is freed just after its last reply).
func awaitNoSession(t *testing.T, h *Host) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Status().Sessions.Active != 0 || h.ws.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions %+v, websocket callers %d", h.Status().Sessions, h.ws.Len())
		}
		time.Sleep(time.Millisecond) // freeing a session has no event to wait on
	}
}

func TestWebSocketCaller(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}

	b.wsHandshake("7")
	if got := string(w.next(t, "7")); got != string(m2proto.AppendWebSocketHandshake(nil, wsAccept)) {
		t.Fatalf("handshake answered %q", got)
	}
	b.wsSay("7", "connect")
	if kind, text := w.message(t, "7"); kind != "prompt" || text != "v1 connect" {
		t.Errorf("first message = %s %q", kind, text)
	}
	b.wsSay("7", "hello")
	if kind, text := w.message(t, "7"); kind != "prompt" || text != "v1 hello" {
		t.Errorf("second message = %s %q", kind, text)
	}
	b.wsFrame("7", "0x89", "are you there")
	if f := w.frame(t, "7"); f.Flags.Opcode() != m2proto.OpPong || string(f.Payload) != "are you there" {
		t.Errorf("ping answered with %v %q", f.Flags.Opcode(), f.Payload)
	}
	b.wsFrame("7", "0x8a", "")         // a pong is ignored
	b.wsFrame("7", "0x88", "\x03\xe9") // going away
	w.closed(t, "7", m2proto.CloseGoingAway)
	awaitNoSession(t, b.host)
	if st := b.host.Status().Sessions; st.Disconnected != 1 {
		t.Errorf("sessions = %+v, want one caller who hung up", st)
	}
}

func TestWebSocketSessionEndClosesTheSocket(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	b.wsHandshake("3")
	w.next(t, "3")
	b.wsSay("3", "connect")
	w.message(t, "3")
	b.wsSay("3", "bye")
	if kind, _ := w.message(t, "3"); kind != "exit" {
		t.Errorf("last message is a %s, want exit", kind)
	}
	w.closed(t, "3", m2proto.CloseNormal)
	awaitNoSession(t, b.host)
}

func TestWebSocketDisconnectNoticeFreesTheSession(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	b.wsHandshake("4")
	w.next(t, "4")
	b.wsSay("4", "connect")
	w.message(t, "4")
	// The browser dropped its TCP connection: Mongrel2's notice.
	b.ft.in <- request("JSON", "4", "@*", `{"type":"disconnect"}`)
	awaitNoSession(t, b.host)
	if st := b.host.Status().Sessions; st.Disconnected != 1 {
		t.Errorf("sessions = %+v", st)
	}
}

func TestWebSocketRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, flags, payload string
		code                 m2proto.CloseCode
	}{
		{"binary", "0x82", "\xff\x00", m2proto.CloseUnsupportedData},
		{"fragment", "0x01", `{"type":`, m2proto.ClosePolicyViolation},
		{"continuation", "0x80", `"msg"}`, m2proto.ClosePolicyViolation},
		{"not utf-8", "0x81", "\xff\xfe", m2proto.CloseInvalidPayload},
		{"too long", "0x81", `{"type":"msg","msg":"` + strings.Repeat("x", websocket.MaxMessage) + `"}`, m2proto.CloseMessageTooBig},
		{"reserved bits", "0xc1", `{}`, m2proto.CloseProtocolError},
		{"reserved opcode", "0x83", `{}`, m2proto.CloseProtocolError},
		{"long ping", "0x89", strings.Repeat("p", 126), m2proto.CloseProtocolError},
		{"bad close code", "0x88", "\x03\xed", m2proto.CloseProtocolError},
		{"bad flags", "81", `{}`, m2proto.CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBoard(t, versioned("v1"), Config{})
			w := &wsWatch{ft: b.ft}
			b.wsHandshake("5")
			w.next(t, "5")
			b.wsSay("5", "connect")
			w.message(t, "5")
			b.wsFrame("5", tc.flags, tc.payload)
			w.closed(t, "5", tc.code)
			awaitNoSession(t, b.host)
			if st := b.host.Status(); st.Unsupported != 1 {
				t.Errorf("unsupported = %d, want 1", st.Unsupported)
			}
		})
	}
}

func TestWebSocketBadHandshake(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	b.ft.in <- request(m2proto.MethodWebSocketHandshake, "6", "/ws", "", m2proto.Header{Name: "sec-websocket-key", Value: "short"})
	if got := string(w.next(t, "6")); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Errorf("bad handshake answered %q", got)
	}
	if body := w.next(t, "6"); len(body) != 0 {
		t.Errorf("no hang-up after the 400: %q", body)
	}
	if b.host.ws.Len() != 0 {
		t.Error("refused caller kept as a WebSocket caller")
	}
}

// TestWebSocketAdoptsAKnownFrame: a browser whose handshake an earlier
// host process answered is served on its next frame.
func TestWebSocketAdoptsAKnownFrame(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	b.wsSay("8", "connect")
	if kind, text := w.message(t, "8"); kind != "prompt" || text != "v1 connect" {
		t.Errorf("adopted caller got %s %q", kind, text)
	}
}

func TestWebSocketBusySignal(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{MaxCallers: 1})
	w := &wsWatch{ft: b.ft}
	b.say("1", "connect")
	w.next(t, "1")
	b.wsHandshake("2")
	w.next(t, "2")
	b.wsSay("2", "connect")
	if kind, text := w.message(t, "2"); kind != "exit" || text != "Busy, call later." {
		t.Errorf("busy signal = %s %q", kind, text)
	}
	w.closed(t, "2", m2proto.CloseNormal)
	if b.host.ws.Len() != 0 {
		t.Error("busy caller kept as a WebSocket caller")
	}
}

// TestWebSocketMixedTargets: one message to callers of both kinds leaves
// as two replies, each in its caller's framing.
func TestWebSocketMixedTargets(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
			b := startBoard(t, versioned("v1"), Config{RawFrames: raw})
			w := &wsWatch{ft: b.ft}
			b.wsHandshake("2")
			w.next(t, "2")

			msg := []byte(`{"msg":"Closing soon.","type":"screen"}`)
			frame := m2proto.AppendClientFrame(nil, msg, raw)
			if err := b.host.sendMessage("s1", []string{"1", "2", "3"}, message.Screen("Closing soon.")); err != nil {
				t.Fatal(err)
			}
			b.ft.mu.Lock()
			sent := b.ft.sent[len(b.ft.sent)-2:]
			b.ft.mu.Unlock()
			_, classic, classicBody, _ := m2proto.ParseReply(sent[0])
			_, browsers, browserBody, _ := m2proto.ParseReply(sent[1])
			if strings.Join(classic, " ") != "1 3" || string(classicBody) != string(frame) {
				t.Errorf("classic reply to %v: %q", classic, classicBody)
			}
			want := m2proto.AppendWebSocketFrame(nil, m2proto.OpText, msg)
			if strings.Join(browsers, " ") != "2" || string(browserBody) != string(want) {
				t.Errorf("browser reply to %v: %q, want %q", browsers, browserBody, want)
			}
		})
	}
}
