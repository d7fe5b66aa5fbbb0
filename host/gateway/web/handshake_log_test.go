package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), "\n")
}

// TestBadWebSocketHandshakesAreLoggedAtARate: requests to /ws that are no
// WebSocket handshake (no Upgrade, a bad Sec-WebSocket-Key), sent as fast
// as a caller can on a keep-alive connection, are each refused, and the
// sysop's log gets a line a second of them at most (the next carrying
// suppressed=N), as for a refused origin.
func TestBadWebSocketHandshakesAreLoggedAtARate(t *testing.T) {
	var logged lockedBuffer
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial, Log: slog.New(slog.NewTextHandler(&logged, nil))})
	const n = 200
	for i := range n {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
		req.Header.Set("Origin", srv.URL)
		if i%2 == 1 { // an upgrade with a bad key
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "short")
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Fatalf("request %d: status %d, want a refusal", i, resp.StatusCode)
		}
	}
	if got := logged.lines(); got > 5 {
		t.Errorf("%d refused WebSocket handshakes wrote %d log lines, want a few (rate-limited, suppressed=N)", n, got)
	}
}
