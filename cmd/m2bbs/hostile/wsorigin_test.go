package hostile

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// The attack of issue 12, item 3: a page of another site opens a
// WebSocket to the board from its visitor's browser and drives the board
// as that visitor.

// startWebSocketsBehindMongrel2 starts a real Mongrel2 that passes /ws to
// `m2bbs host` (the host answers the handshakes), with extra flags for
// the host.
func startWebSocketsBehindMongrel2(t *testing.T, extra ...string) *board {
	t.Helper()
	return startBehind(t, mongrel2.Config{
		SenderID:       "hostile-ws-handler",
		WebSocketPaths: []string{dispatch.WebSocketPath(0)},
	}, extra...)
}

// openWebSocket opens ws://addr/ws as a page at origin ("" for none)
// would; it returns the connection, or the HTTP status of the refusal.
func openWebSocket(t *testing.T, addr, origin string) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, "ws://"+addr+dispatch.WebSocketPath(0), opts)
	if err != nil {
		if resp == nil {
			t.Fatalf("websocket from %q: %v", origin, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn, http.StatusSwitchingProtocols
}

// firstPrompt says "connect" on conn and returns the text up to the
// board's first prompt.
func firstPrompt(t *testing.T, conn *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"msg","msg":"connect"}`)); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the first prompt: %v; seen %q", err, seen.String())
		}
		var m struct{ Type, Msg string }
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("message %q: %v", data, err)
		}
		seen.WriteString(m.Msg + "\n")
		if m.Type == "prompt" {
			return seen.String()
		}
	}
}

// TestForeignWebSocketRefusedBehindMongrel2: behind a real Mongrel2, a
// page of another site gets 403 for its WebSocket and starts no session;
// the board's own page, a site the sysop allows (-ws-origins) and a
// program that sends no Origin get the board.
func TestForeignWebSocketRefusedBehindMongrel2(t *testing.T) {
	b := startWebSocketsBehindMongrel2(t, "-ws-origins", "*.example.org")
	by := b.bystander(t, "bystander")
	assertResponsive(t, by, func() {
		for _, origin := range []string{"http://evil.example", "null", "http://bbs.example.org.evil.example", "http://127.0.0.1:1"} {
			if conn, code := openWebSocket(t, b.addr, origin); code != http.StatusForbidden {
				if conn != nil {
					conn.CloseNow()
				}
				t.Errorf("a page at %s opened a WebSocket: %d", origin, code)
			}
		}
	})
	if n := b.proc.logs.Count("websocket: origin refused"); n == 0 {
		t.Error("the refusals were not logged")
	}
	for _, origin := range []string{"http://" + b.addr, "https://bbs.example.org", ""} {
		conn, code := openWebSocket(t, b.addr, origin)
		if code != http.StatusSwitchingProtocols {
			t.Errorf("a page at %q was refused: %d", origin, code)
			continue
		}
		if got := firstPrompt(t, conn); !strings.Contains(got, "name") {
			t.Errorf("a page at %q saw %q", origin, got)
		}
	}
}

// TestForeignWebSocketRefusedOnTheWebPort: the built-in web port applies
// the same rule.
func TestForeignWebSocketRefusedOnTheWebPort(t *testing.T) {
	b := startBoard(t, boardOptions{web: true})
	if _, code := openWebSocket(t, b.webAddr, "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("a foreign page opened a WebSocket on the web port: %d", code)
	}
	conn, code := openWebSocket(t, b.webAddr, "http://"+b.webAddr)
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("the board's own page was refused: %d", code)
	}
	if got := firstPrompt(t, conn); !strings.Contains(got, "name") {
		t.Errorf("the page saw %q", got)
	}
}

// reboundClient is an HTTP client that reaches addr whatever host a URL
// names: the browser of a visitor whose DNS an attacker rebound, who
// sends the attacker's name in Host and Origin.
func reboundClient(addr string) *http.Client {
	return &http.Client{Timeout: readTimeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// openReboundWebSocket opens a WebSocket on the board at addr as a page
// of http://name:port (port: addr's) would after DNS rebinding; it
// returns the connection, or the HTTP status of the refusal.
func openReboundWebSocket(t *testing.T, addr, name string) (*websocket.Conn, int) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	rebound := net.JoinHostPort(name, port)
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws://"+rebound+dispatch.WebSocketPath(0), &websocket.DialOptions{
		HTTPClient: reboundClient(addr),
		HTTPHeader: http.Header{"Origin": {"http://" + rebound}},
	})
	if err != nil {
		if resp == nil {
			t.Fatalf("websocket as %s: %v", rebound, err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn, http.StatusSwitchingProtocols
}

// TestReboundPageRefused: a page of the attacker's name, rebound to the
// loopback, is same-origin with its own Host; it gets 403 for its
// WebSocket on the web port and behind Mongrel2, while the board's page
// under localhost gets the board.
func TestReboundPageRefused(t *testing.T) {
	b := startBoard(t, boardOptions{web: true})
	m := startWebSocketsBehindMongrel2(t)
	by := b.bystander(t, "bystander")
	assertResponsive(t, by, func() {
		for _, addr := range []string{b.webAddr, m.addr} {
			for _, name := range []string{"evil.example", "127.0.0.1.nip.io", "localhost.evil.example"} {
				if conn, code := openReboundWebSocket(t, addr, name); code != http.StatusForbidden {
					if conn != nil {
						conn.CloseNow()
					}
					t.Errorf("a page of %s rebound to %s opened a WebSocket: %d", name, addr, code)
				}
			}
		}
	})
	if b.proc.logs.Count("websocket refused") == 0 || m.proc.logs.Count("websocket: origin refused") == 0 {
		t.Error("the refusals were not logged")
	}
	for _, addr := range []string{b.webAddr, m.addr} {
		conn, code := openReboundWebSocket(t, addr, "localhost")
		if code != http.StatusSwitchingProtocols {
			t.Errorf("the board's page as localhost via %s was refused: %d", addr, code)
			continue
		}
		if got := firstPrompt(t, conn); !strings.Contains(got, "name") {
			t.Errorf("the page via %s saw %q", addr, got)
		}
	}
}

// TestPublicBoardTakesItsPageUnderAnyName: a board open to the network
// (-listen-all) serves its page under names it cannot know, so its own
// page under any name gets the board; another site's page still not.
func TestPublicBoardTakesItsPageUnderAnyName(t *testing.T) {
	b := startBoard(t, boardOptions{web: true, extra: []string{"-listen-all", "-sysop-token", "hostile-suite-token-0123456789"}})
	conn, code := openReboundWebSocket(t, b.webAddr, "bbs.example.org")
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("the public board's page under its name was refused: %d", code)
	}
	if got := firstPrompt(t, conn); !strings.Contains(got, "name") {
		t.Errorf("the page saw %q", got)
	}
	if _, code := openWebSocket(t, b.webAddr, "http://evil.example"); code != http.StatusForbidden {
		t.Errorf("another site's page opened a WebSocket on the public board: %d", code)
	}
}
