package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// seen is what the board behind the proxy was sent.
type seen struct {
	host, proxiedFor, sysop string
}

// TestBoardProxyPassesTheRealCaller: a caller from elsewhere who claims
// to be the loopback (even one that lists the proxy's header in
// Connection, to have it dropped as hop-by-hop) reaches the board tagged
// with their real address, and with the Host they named.
func TestBoardProxyPassesTheRealCaller(t *testing.T) {
	got := make(chan seen, 1)
	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{host: r.Host, proxiedFor: r.Header.Get("X-M2BBS-Proxied-For"), sysop: r.Header.Get("X-M2BBS-Sysop")}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(board.Close)
	boardURL, err := url.Parse(board.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Config{Dial: newFakeBBS().dial, Fallback: BoardProxy(boardURL, nil)})
	// The web port listens on every interface: this caller is elsewhere.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = "203.0.113.9:40000"
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/status/broadcast", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "bbs.example.org:8080"
	req.Header.Set("X-M2BBS-Sysop", "1")
	req.Header.Set("X-M2BBS-Proxied-For", "127.0.0.1")
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	// A hop-by-hop header names the proxy's own header: stripping it
	// would make the caller look like a direct one from the loopback.
	req.Header.Set("Connection", "X-M2BBS-Proxied-For")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-got
	if s.proxiedFor != "203.0.113.9" {
		t.Errorf("the board was told the caller is %q, want 203.0.113.9", s.proxiedFor)
	}
	if s.host != "bbs.example.org:8080" {
		t.Errorf("the board saw Host %q", s.host)
	}
	if s.sysop != "1" {
		t.Errorf("the caller's own headers were dropped: %+v", s)
	}
}

func TestCallerIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9:1": "203.0.113.9", "[::1]:80": "::1", "127.0.0.1:5": "127.0.0.1", "pipe": "unknown", "x:1": "unknown", "": "unknown",
	} {
		if got := callerIP(in); got != want {
			t.Errorf("callerIP(%q) = %q, want %q", in, got, want)
		}
	}
}
