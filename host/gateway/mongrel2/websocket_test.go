package mongrel2

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example key of RFC 6455 and its accept value.
const (
	testWSKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	testWSAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// wsCaller is a browser stand-in speaking WebSocket on a raw TCP
// connection, so that the test sees Mongrel2's bytes exactly.
type wsCaller struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialWS connects to s and sends a WebSocket upgrade request for path.
func dialWS(t *testing.T, addr, path string) *wsCaller {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsCaller{conn: conn, r: bufio.NewReader(conn)}
	c.write(t, []byte("GET "+path+" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testWSKey+"\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost\r\n\r\n"))
	return c
}

func (c *wsCaller) write(t *testing.T, b []byte) {
	t.Helper()
	if err := c.conn.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// send writes one masked frame, as browsers must.
func (c *wsCaller) send(t *testing.T, first byte, payload string) {
	t.Helper()
	if len(payload) > 125 {
		t.Fatal("test frames are short")
	}
	mask := []byte{0x12, 0x34, 0x56, 0x78}
	frame := append([]byte{first, 0x80 | byte(len(payload))}, mask...)
	for i := range len(payload) {
		frame = append(frame, payload[i]^mask[i%4])
	}
	c.write(t, frame)
}

// read reads exactly n bytes.
func (c *wsCaller) read(t *testing.T, n int) []byte {
	t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		t.Fatalf("caller read: %v (got %q)", err, b)
	}
	return b
}

// wsRequest is a request the handler got, with its JSON headers decoded.
func wsRequest(t *testing.T, h *handler) (request, map[string]string) {
	t.Helper()
	r := h.next(t)
	var hs map[string]string
	if err := json.Unmarshal(r.headers, &hs); err != nil {
		t.Fatalf("headers %q: %v", r.headers, err)
	}
	return r, hs
}

// reply publishes body to connID.
func (h *handler) reply(sender, connID string, body []byte) {
	h.replies <- fmt.Appendf(nil, "%s %d:%s, %s", sender, len(connID), connID, body)
}

// TestWebSocketCapture checks what the package m2proto doc says of
// Mongrel2's WebSockets: the handshake the handler answers, frames in
// with FLAGS and unmasked bodies, fragments joined, pings and closes
// forwarded, raw frames out, and the notice when the caller goes away.
func TestWebSocketCapture(t *testing.T) {
	for _, base64Payload := range []bool{false, true} {
		t.Run(fmt.Sprintf("base64=%v", base64Payload), func(t *testing.T) {
			s := startServer(t, Config{SenderID: "test-handler", WebSocketPaths: []string{"/ws"}, Base64Payload: base64Payload})
			h := connectHandler(t, s.Cfg)
			c := dialWS(t, s.Addr(), "/ws")

			hs, hh := wsRequest(t, h)
			if hh["METHOD"] != "WEBSOCKET_HANDSHAKE" || hs.path != "/ws" || hh["sec-websocket-key"] != testWSKey || hh["PATTERN"] != "/ws()$" {
				t.Errorf("handshake: path %q headers %v", hs.path, hh)
			}
			if string(hs.body) != testWSAccept {
				t.Errorf("handshake body = %q, want the accept value %q", hs.body, testWSAccept)
			}
			upgrade := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testWSAccept + "\r\n\r\n"
			h.reply("test-handler", hs.connID, []byte(upgrade))
			if got := c.read(t, len(upgrade)); string(got) != upgrade {
				t.Errorf("caller got %q", got)
			}

			for _, tc := range []struct {
				frames      [][2]string // first byte, payload
				flags, body string
			}{
				{[][2]string{{"\x81", `{"type":"msg","msg":"connect"}`}}, "0x81", `{"type":"msg","msg":"connect"}`},
				{[][2]string{{"\x01", "frag1"}, {"\x80", "frag2"}}, "0x81", "frag1frag2"},
				{[][2]string{{"\x82", "\xff\x00"}}, "0x82", "\xff\x00"},
				{[][2]string{{"\x81", "\xff\xfe"}}, "0x81", "\xff\xfe"},
				{[][2]string{{"\x89", "pi"}}, "0x89", "pi"},
			} {
				for _, f := range tc.frames {
					c.send(t, f[0][0], f[1])
				}
				r, rh := wsRequest(t, h)
				if rh["METHOD"] != "WEBSOCKET" || rh["FLAGS"] != tc.flags || string(r.body) != tc.body || r.connID != hs.connID {
					t.Errorf("frames %q arrived as FLAGS %q body %q (method %q, conn %s)", tc.frames, rh["FLAGS"], r.body, rh["METHOD"], r.connID)
				}
			}
			// Mongrel2 did not answer the ping: the caller's next bytes are
			// the handler's frame, passed on whatever raw_payload says.
			h.reply("test-handler", hs.connID, []byte("\x81\x05world"))
			if got := c.read(t, 7); string(got) != "\x81\x05world" {
				t.Errorf("caller got %q, want the handler's frame only", got)
			}

			c.send(t, 0x88, "\x03\xe8bye")
			if r, rh := wsRequest(t, h); rh["FLAGS"] != "0x88" || string(r.body) != "\x03\xe8bye" {
				t.Errorf("close arrived as FLAGS %q body %q", rh["FLAGS"], r.body)
			}
			h.reply("test-handler", hs.connID, []byte("\x88\x02\x03\xe8"))
			h.reply("test-handler", hs.connID, nil)
			if got := c.read(t, 4); string(got) != "\x88\x02\x03\xe8" {
				t.Errorf("caller got %q, want the close frame", got)
			}
			if rest, err := io.ReadAll(c.r); err != nil || len(rest) != 0 {
				t.Errorf("after the close frame: %q %v, want EOF", rest, err)
			}

			// A browser that goes away without a close frame.
			gone := dialWS(t, s.Addr(), "/ws")
			hs2, _ := wsRequest(t, h)
			h.reply("test-handler", hs2.connID, []byte(upgrade))
			gone.read(t, len(upgrade))
			gone.conn.Close()
			if bye := h.next(t); bye.connID != hs2.connID || bye.path != "@*" || string(bye.body) != `{"type":"disconnect"}` {
				t.Errorf("after the drop: %q %q %q", bye.connID, bye.path, bye.body)
			}
		})
	}
}

// TestWebSocketRoutes loads WebSocket paths for several handlers beside a
// Dir on "/" and checks that each path reaches its handler, exactly.
func TestWebSocketRoutes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web", "index.html"), []byte("<p>page</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{
		Dir: dir, SenderID: "line1", Route: "@bbs.1", ExtraRoutes: []string{"@bbs"}, WebRoot: "web",
		WebSocketPaths: []string{"/ws", "/ws/1"},
		Handlers: []Handler{
			{Name: "line2", SenderID: "line2", Routes: []string{"@bbs.2"}, WebSocketPaths: []string{"/ws/2"}},
			{Name: "line10", SenderID: "line10", WebSocketPaths: []string{"/ws/10"}},
		},
	})
	handlers := map[string]*handler{"line1": connectHandler(t, s.Cfg)}
	for _, hc := range s.Cfg.Handlers {
		handlers[hc.SenderID] = connectHandler(t, Config{SendSpec: hc.SendSpec, RecvSpec: hc.RecvSpec})
	}
	for path, want := range map[string]string{
		"/ws": "line1", "/ws/1": "line1", "/ws/2": "line2", "/ws/10": "line10", "/ws/2?x=1": "line2",
		"/ws/11": "404", "/ws/3": "404", "/ws/1x": "404", "/wsx": "404",
	} {
		c := dialWS(t, s.Addr(), path)
		if want == "404" {
			if line := string(c.read(t, len("HTTP/1.1 404"))); line != "HTTP/1.1 404" {
				t.Errorf("%s: caller got %q, want 404", path, line)
			}
			continue
		}
		r, hh := wsRequest(t, handlers[want])
		if hh["METHOD"] != "WEBSOCKET_HANDSHAKE" || r.sender != want {
			t.Errorf("%s reached %s as %q", path, r.sender, hh["METHOD"])
		}
		c.conn.Close()
		handlers[want].next(t) // the disconnect notice
	}
	resp, err := (&http.Client{Timeout: wait}).Get("http://" + s.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "<p>page</p>" {
		t.Errorf("GET / = %s %q, want the web root's index", resp.Status, body)
	}
}

func TestRenderWebSocketPaths(t *testing.T) {
	cfg := Config{
		WebSocketPaths: []string{"/ws"},
		Handlers:       []Handler{{Name: "line2", SenderID: "l2", SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:2", WebSocketPaths: []string{"/ws/2"}}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	conf := string(Render(cfg))
	for _, want := range []string{"'/ws()$': bbs", "'/ws/2()$': line2"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	for _, bad := range []string{"ws", "/", "/ws$", "/ws(", "/w s", "/ws.1", "/ws'"} {
		c := Config{WebSocketPaths: []string{bad}}
		if err := c.Validate(); err == nil {
			t.Errorf("WebSocket path %q accepted", bad)
		}
		c = Config{Handlers: []Handler{{Name: "h", WebSocketPaths: []string{bad}}}}
		if err := c.Validate(); err == nil {
			t.Errorf("handler WebSocket path %q accepted", bad)
		}
	}
}
