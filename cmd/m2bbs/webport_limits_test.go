package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// The browser page's port gives one address pageConnsPerAddr times
// -max-per-addr connections, tells the next one why it is refused, and
// closes a connection that asks for nothing more within
// -first-frame-timeout of its last answer: a caller cannot hold the
// process's sockets by fetching a file and saying nothing.
func TestWebPortBoundsWhatOneAddressHolds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	board, _ := url.Parse("http://127.0.0.1:1/")
	dial := func(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
		return nil, errors.New("no board in this test")
	}
	limits := &abuseLimits{perAddr: netlimit.Limits{MaxPerAddr: 2, AcceptRate: -1}, firstFrame: 300 * time.Millisecond}
	gw := startGateways(ctx, gatewayOptions{webPort: 0, telnetPort: -1, sshPort: -1, rlogin: rloginOptions{port: -1}, limits: limits},
		"127.0.0.1", board, false, dial, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { cancel(); gw.wait() })
	if gw.webAddr == "" {
		t.Fatal("the page's port did not start")
	}
	allowed := 2 * pageConnsPerAddr
	var kept []net.Conn
	for i := range allowed + 2 {
		c, err := net.Dial("tcp", gw.webAddr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /bbs.css HTTP/1.1\r\nHost: " + gw.webAddr + "\r\n\r\n")); err != nil {
			t.Fatalf("connection %d: write: %v", i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("connection %d: read the answer: %v", i, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch {
		case i < allowed && resp.StatusCode != http.StatusOK:
			t.Fatalf("connection %d of %d allowed: %s", i+1, allowed, resp.Status)
		case i >= allowed && resp.StatusCode != http.StatusTooManyRequests:
			t.Fatalf("connection %d, past the %d allowed: %s %q, want 429", i+1, allowed, resp.Status, body)
		case i >= allowed:
			t.Logf("refused: %s %q", resp.Status, body)
		default:
			kept = append(kept, c)
		}
	}
	// Meanwhile a caller from another address is served as ever.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	other, err := d.Dial("tcp", gw.webAddr)
	if err != nil {
		t.Fatalf("a caller from 127.0.0.2: %v", err)
	}
	defer other.Close()
	if _, err := other.Write([]byte("GET /bbs.css HTTP/1.1\r\nHost: " + gw.webAddr + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(other), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a caller from another address while one is at its limit: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Each kept connection, silent since its answer, is closed by the
	// page's port (EOF) well before the 5 s deadline.
	for i, c := range kept {
		var b [1]byte
		if _, err := c.Read(b[:]); !errors.Is(err, io.EOF) {
			t.Errorf("idle connection %d: %v, want the port to close it", i+1, err)
		}
	}
}
