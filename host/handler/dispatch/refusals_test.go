package dispatch

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// logBuffer collects a host's log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startLoggedBoard is startBoard with the host's log written to the
// returned buffer.
func startLoggedBoard(t *testing.T, script string, cfg Config) (*board, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.ReloadInterval = -1
	return startBoardDeps(t, script, cfg, Deps{Log: slog.New(slog.NewTextHandler(logs, nil))}), logs
}

// TestRefusalLogsAreSeparate: a flood of refused WebSocket handshakes
// does not hide a refused sysop action from the log, nor the other way
// round: each kind has its own limiter.
func TestRefusalLogsAreSeparate(t *testing.T) {
	b, logs := startLoggedBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	start := time.Now()
	b.wsHandshakeFrom("1", "http://evil.example", "127.0.0.1:6767")
	w.next(t, "1")
	b.ft.in <- request("POST", "2", "/status/broadcast", "Forged.", m2proto.Header{Name: "origin", Value: "http://evil.example"})
	b.ft.waitFor(t, "2", kind("http"))
	b.wsHandshakeFrom("3", "http://evil.example", "127.0.0.1:6767")
	w.next(t, "3")
	if time.Since(start) >= time.Second {
		t.Skip("the machine is too slow for this test: a second passed")
	}
	got := logs.String()
	if n := strings.Count(got, "websocket: origin refused"); n != 1 {
		t.Errorf("%d origin refusals logged within a second, want 1:\n%s", n, got)
	}
	if n := strings.Count(got, "sysop action refused"); n != 1 {
		t.Errorf("the sysop refusal after an origin refusal was logged %d times, want 1:\n%s", n, got)
	}
}

// TestBadHandshakeLogIsLimited: malformed handshakes are answered 400
// each, but logged at most once a second, without the caller's key.
func TestBadHandshakeLogIsLimited(t *testing.T) {
	b, logs := startLoggedBoard(t, versioned("v1"), Config{})
	w := &wsWatch{ft: b.ft}
	key := strings.Repeat("ATTACKER-KEY-", 100)
	start := time.Now()
	const n = 50
	for i := range n {
		id := strconv.Itoa(100 + i)
		b.ft.in <- request(m2proto.MethodWebSocketHandshake, id, "/ws", wsAccept,
			m2proto.Header{Name: "sec-websocket-key", Value: key}, m2proto.Header{Name: "sec-websocket-version", Value: "13"})
		if got := string(w.next(t, id)); statusCode(got) != "400" {
			t.Fatalf("bad handshake %d answered %q", i, got)
		}
	}
	got := logs.String()
	if strings.Contains(got, "ATTACKER-KEY") {
		t.Errorf("the caller's key is in the log:\n%.300s", got)
	}
	lines := strings.Count(got, "websocket: bad handshake")
	if max := 1 + int(time.Since(start)/time.Second); lines == 0 || lines > max {
		t.Errorf("%d bad handshakes logged %d lines, want 1 to %d", n, lines, max)
	}
}
