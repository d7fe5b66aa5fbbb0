package dispatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// benchTransport is a Transport for benchmarks: it counts the bytes of
// each reply the host hands it and signals the benchmark, keeping nothing.
type benchTransport struct {
	in   chan []byte
	sent chan int
	sub  chan struct{}
}

func (t *benchTransport) Messages() <-chan []byte     { return t.in }
func (t *benchTransport) Subscribed() <-chan struct{} { return t.sub }
func (t *benchTransport) Send(msg []byte) error {
	t.sent <- len(msg)
	return nil
}

// promptScripts answer every line of the caller with one prompt, through
// the ui module (in plain text, or in colour: pipe codes become ANSI
// escapes) or a script's own conn:reply_json.
var promptScripts = map[string]string{
	"ui.ask": `require 'ui'
function m2bbs(conn, req)
    while true do req = ui.ask(conn, req, 'Your choice, ' .. req.data.msg .. '?') end
end`,
	"ui.colour": `require 'ui'
function m2bbs(conn, req)
    while true do req = ui.ask(conn, req, '|12Your choice|07, ' .. req.data.msg .. '?') end
end`,
	"reply_json": `function m2bbs(conn, req)
    while true do
        conn:reply_json(req, {type = 'prompt', msg = 'Your choice, ' .. req.data.msg .. '?', pchar = '> '})
        req = coroutine.yield()
    end
end`,
}

// BenchmarkPromptToWire measures one caller's line to the prompt that
// answers it, as bytes handed to the transport: a classic caller (base64
// framing) and a Mongrel2 WebSocket caller (one text frame), the prompt
// sent by ui.ask (with or without colour) or by conn:reply_json. Each operation is one request in
// and one reply out; wire-bytes/op is the size of that reply.
func BenchmarkPromptToWire(b *testing.B) {
	for _, caller := range []string{"classic", "websocket"} {
		for _, via := range []string{"ui.ask", "ui.colour", "reply_json"} {
			b.Run(caller+"/"+via, func(b *testing.B) {
				benchPromptToWire(b, caller == "websocket", promptScripts[via])
			})
		}
	}
}

func benchPromptToWire(b *testing.B, websocket bool, script string) {
	dir := b.TempDir()
	for name, text := range map[string]string{"scripts/main.lua": script, "screens/busy.txt": "Busy."} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var cfg Config
	cfg.Session.ScriptsDir = filepath.Join(dir, "scripts")
	cfg.Session.MainScript = filepath.Join(dir, "scripts", "main.lua")
	cfg.ScreensDir = filepath.Join(dir, "screens")
	cfg.ReloadInterval = -1
	cfg.Workers = 1
	cfg.Session.RatePerSecond, cfg.Session.RateBurst = 1e9, 1e9 // no throttling
	tr := &benchTransport{in: make(chan []byte, 1), sent: make(chan int, 16), sub: make(chan struct{})}
	close(tr.sub)
	h, err := New(tr, cfg, Deps{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	})
	<-h.Ready()

	line := `{"type":"msg","msg":"Ann"}`
	var req []byte
	if websocket {
		tr.in <- request(m2proto.MethodWebSocketHandshake, "1", "/ws", wsAccept, wsHeaders("")...)
		<-tr.sent // 101
		req = request(m2proto.MethodWebSocket, "1", "/ws", line, wsHeaders("0x81")...)
	} else {
		req = request("JSON", "1", "@bbs", line)
	}
	tr.in <- req // the session's first prompt
	<-tr.sent
	wire := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tr.in <- req
		select {
		case wire = <-tr.sent:
		case <-time.After(10 * time.Second):
			b.Fatal("no prompt")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(wire), "wire-bytes/op")
}
