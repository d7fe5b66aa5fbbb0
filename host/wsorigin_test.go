package host

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/m2proto"
)

// wsHandshakeFrom sends a handshake for connID from a page at origin
// ("" for none) to the board reached as hostHeader.
func (b *board) wsHandshakeFrom(connID, origin, hostHeader string) {
	hs := append(wsHeaders(""), m2proto.Header{Name: "host", Value: hostHeader})
	if origin != "" {
		hs = append(hs, m2proto.Header{Name: "origin", Value: origin})
	}
	b.ft.in <- request(m2proto.MethodWebSocketHandshake, connID, "/ws", wsAccept, hs...)
}

// TestWebSocketForeignOriginRefused: behind Mongrel2 the host answers a
// handshake from another site's page with 403 and hangs up; the board's
// own page, a listed origin and a program (no Origin) get 101.
func TestWebSocketForeignOriginRefused(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{WebSocketOrigins: []string{"*.example.org"}})
	w := &wsWatch{ft: b.ft}
	for _, tc := range []struct {
		id, origin, want string
	}{
		{"1", "http://evil.example", "403"},
		{"2", "null", "403"},
		{"3", "http://bbs.example.org.evil.example", "403"},
		{"4", "http://127.0.0.1:6767", "101"},
		{"5", "https://bbs.example.org", "101"},
		{"6", "", "101"},
	} {
		b.wsHandshakeFrom(tc.id, tc.origin, "127.0.0.1:6767")
		got := string(w.next(t, tc.id))
		if statusCode(got) != tc.want {
			t.Errorf("origin %q answered %q, want %s", tc.origin, got, tc.want)
			continue
		}
		if tc.want == "403" {
			if !strings.Contains(got, "another site") {
				t.Errorf("origin %q: the refusal does not say why: %q", tc.origin, got)
			}
			if body := w.next(t, tc.id); len(body) != 0 {
				t.Errorf("origin %q: no hang-up after the 403: %q", tc.origin, body)
			}
		}
	}
	if n := b.host.ws.len(); n != 3 {
		t.Errorf("%d WebSocket callers, want the 3 accepted", n)
	}
	if st := b.host.Status(); st.Unsupported != 3 || st.Sessions.Started != 0 {
		t.Errorf("after the refusals: %+v", st)
	}
}
