package dispatch

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
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
	b := startBoard(t, versioned("v1"), Config{WebSocketOrigins: access.Origins{Patterns: []string{"*.example.org"}}})
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
	if n := b.host.ws.Len(); n != 3 {
		t.Errorf("%d WebSocket callers, want the 3 accepted", n)
	}
	if st := b.host.Status(); st.Unsupported != 3 || st.Sessions.Started != 0 {
		t.Errorf("after the refusals: %+v", st)
	}
}

// TestWebSocketReboundPageRefused: a page whose name DNS rebinding
// points at the board sends Host and Origin of that name, which match;
// behind Mongrel2 the host refuses it unless the name is a loopback one,
// an address, or listed, and takes any name only on a public board.
func TestWebSocketReboundPageRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		origins access.Origins
		host    string
		want    string
	}{
		{"rebound name", access.Origins{}, "evil.example:6767", "403"},
		{"rebound name, upper case", access.Origins{}, "EVIL.example:6767", "403"},
		{"rebound name looking like the loopback", access.Origins{}, "127.0.0.1.nip.io:6767", "403"},
		{"rebound name, other sites listed", access.Origins{Patterns: []string{"*.example.org"}}, "evil.example:6767", "403"},
		{"localhost", access.Origins{}, "localhost:6767", "101"},
		{"IPv6 loopback", access.Origins{}, "[::1]:6767", "101"},
		{"the board's address", access.Origins{}, "192.0.2.10:6767", "101"},
		{"a listed name", access.Origins{Patterns: []string{"bbs.example.org:6767"}}, "bbs.example.org:6767", "101"},
		{"a public board's name", access.Origins{AnyName: true}, "bbs.example.org:6767", "101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBoard(t, versioned("v1"), Config{WebSocketOrigins: tc.origins})
			w := &wsWatch{ft: b.ft}
			b.wsHandshakeFrom("1", "http://"+tc.host, tc.host)
			if got := string(w.next(t, "1")); statusCode(got) != tc.want {
				t.Fatalf("Host %s answered %q, want %s", tc.host, got, tc.want)
			}
			if want := map[string]int{"101": 1, "403": 0}[tc.want]; b.host.ws.Len() != want {
				t.Errorf("%d WebSocket callers, want %d", b.host.ws.Len(), want)
			}
		})
	}
}
