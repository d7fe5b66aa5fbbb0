package dispatch

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// sysopTool are the headers m2bbs status sends on the machine itself.
var sysopTool = []m2proto.Header{{Name: "host", Value: "127.0.0.1:6767"}, {Name: "x-m2bbs-sysop", Value: "1"}}

// withHeaders appends extra to base, copied.
func withHeaders(base []m2proto.Header, extra ...m2proto.Header) []m2proto.Header {
	return append(append([]m2proto.Header(nil), base...), extra...)
}

// statusCode is the HTTP status of a raw response.
func statusCode(resp string) string {
	_, rest, _ := strings.Cut(resp, " ")
	code, _, _ := strings.Cut(rest, " ")
	return code
}

// TestSysopActionsRefuseForgedRequests: what a page in the sysop's
// browser (or a caller through the web port's proxy) can send to the
// loopback board never broadcasts; the sysop's own tool does.
func TestSysopActionsRefuseForgedRequests(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))

	forged := []struct {
		name    string
		headers []m2proto.Header
	}{
		// The cross-site form POST of today's attack: no custom header.
		{"text/plain from another site", []m2proto.Header{{Name: "host", Value: "127.0.0.1:6767"},
			{Name: "content-type", Value: "text/plain"}, {Name: "origin", Value: "http://evil.example"},
			{Name: "sec-fetch-site", Value: "cross-site"}}},
		{"no sysop header, no origin", []m2proto.Header{{Name: "host", Value: "127.0.0.1:6767"}}},
		{"sysop header from another site", withHeaders(sysopTool, m2proto.Header{Name: "origin", Value: "http://evil.example"})},
		{"sysop header, cross-site fetch", withHeaders(sysopTool, m2proto.Header{Name: "sec-fetch-site", Value: "cross-site"})},
		{"another port of the same site", withHeaders(sysopTool, m2proto.Header{Name: "origin", Value: "http://127.0.0.1:8000"})},
		// DNS rebinding: the page's own name reaches 127.0.0.1.
		{"rebound name", []m2proto.Header{{Name: "host", Value: "evil.example:6767"}, {Name: "x-m2bbs-sysop", Value: "1"},
			{Name: "origin", Value: "http://evil.example:6767"}}},
		{"through the web port's proxy", withHeaders(sysopTool, m2proto.Header{Name: "x-m2bbs-proxied-for", Value: "203.0.113.9"})},
		{"proxied, address unreadable", withHeaders(sysopTool, m2proto.Header{Name: "x-m2bbs-proxied-for", Value: ""})},
		{"from the network", withHeaders(sysopTool, m2proto.Header{Name: "REMOTE_ADDR", Value: "203.0.113.9"})},
		// A reverse proxy on the machine (nginx proxy_pass to the
		// loopback port, Host rewritten to it): every caller on the
		// internet comes from 127.0.0.1.
		{"behind a proxy: X-Real-IP", withHeaders(sysopTool, m2proto.Header{Name: "x-real-ip", Value: "203.0.113.9"})},
		{"behind a proxy: Forwarded", withHeaders(sysopTool, m2proto.Header{Name: "forwarded", Value: "for=203.0.113.9"})},
		{"behind a proxy: Via", withHeaders(sysopTool, m2proto.Header{Name: "via", Value: "1.1 nginx"})},
		{"behind a proxy: X-Forwarded-Proto", withHeaders(sysopTool, m2proto.Header{Name: "x-forwarded-proto", Value: "https"})},
		{"behind a proxy: X-Forwarded-Host", withHeaders(sysopTool, m2proto.Header{Name: "x-forwarded-host", Value: "bbs.example.org"})},
		{"behind a proxy: X-Forwarded-For appended", withHeaders(sysopTool, m2proto.Header{Name: "x-forwarded-for", Value: "203.0.113.9, 127.0.0.1"})},
	}
	actions := []struct{ path, query, body string }{
		{"/status/broadcast", "", "Send your password to evil.example"},
		{"/status/kick", "conn_id=1", ""},
		{"/status/upgrade", "", ""},
		{"/status/drain", "line=1&to=2", ""},
	}
	n := 100
	for _, a := range actions {
		for _, tc := range forged {
			n++
			id := strconv.Itoa(n)
			hs := tc.headers
			if a.query != "" {
				hs = withHeaders(hs, m2proto.Header{Name: "QUERY", Value: a.query})
			}
			b.ft.in <- request("POST", id, a.path, a.body, hs...)
			if r := b.ft.waitFor(t, id, kind("http")); statusCode(r.text) != "403" || !strings.Contains(r.text, "sysop only") {
				t.Errorf("%s, %s: answered %q, want 403", a.path, tc.name, r.text)
			}
		}
	}

	// The sysop's tool, and a page of the board itself on the loopback.
	b.ft.in <- request("POST", "22", "/status/broadcast", "Closing soon.", sysopTool...)
	if r := b.ft.waitFor(t, "22", kind("http")); statusCode(r.text) != "200" {
		t.Errorf("the sysop's broadcast answered %q", r.text)
	}
	b.ft.in <- request("POST", "23", "/status/broadcast", "Back in 5.", withHeaders(sysopTool,
		m2proto.Header{Name: "origin", Value: "http://127.0.0.1:6767"}, m2proto.Header{Name: "sec-fetch-site", Value: "same-origin"},
		m2proto.Header{Name: "x-m2bbs-proxied-for", Value: "127.0.0.1"})...)
	if r := b.ft.waitFor(t, "23", kind("http")); statusCode(r.text) != "200" {
		t.Errorf("the board's own page answered %q", r.text)
	}
	// Caller 1 saw the sysop's words and nothing forged before them.
	if r := b.ft.waitFor(t, "1", kind("screen")); r.text != "Closing soon." {
		t.Errorf("caller 1 was shown %q first", r.text)
	}
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "screen" && r.text == "Back in 5." })
}

// TestSysopTokenWorksFromAnywhere: with a token, it alone makes the
// sysop, whatever the address; the loopback header is not enough.
func TestSysopTokenWorksFromAnywhere(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{SysopToken: "0123456789abcdef"})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	far := m2proto.Header{Name: "REMOTE_ADDR", Value: "203.0.113.9"}
	b.ft.in <- request("POST", "2", "/status/broadcast", "hi", sysopTool...)
	if r := b.ft.waitFor(t, "2", kind("http")); statusCode(r.text) != "403" || !strings.Contains(r.text, "token") {
		t.Errorf("loopback header without the token answered %q", r.text)
	}
	b.ft.in <- request("POST", "3", "/status/broadcast", "hi", far, m2proto.Header{Name: "authorization", Value: "Bearer 0123456789abcdeX"})
	if r := b.ft.waitFor(t, "3", kind("http")); statusCode(r.text) != "403" {
		t.Errorf("a wrong token answered %q", r.text)
	}
	b.ft.in <- request("POST", "4", "/status/broadcast", "From afar.", far,
		m2proto.Header{Name: "authorization", Value: "Bearer 0123456789abcdef"}, m2proto.Header{Name: "host", Value: "bbs.example.org"})
	if r := b.ft.waitFor(t, "4", kind("http")); statusCode(r.text) != "200" {
		t.Errorf("the token from afar answered %q", r.text)
	}
	if r := b.ft.waitFor(t, "1", kind("screen")); r.text != "From afar." {
		t.Errorf("caller 1 was shown %q", r.text)
	}
	// The scheme's name is case-insensitive (RFC 7235).
	b.ft.in <- request("POST", "5", "/status/broadcast", "Still here.", far,
		m2proto.Header{Name: "authorization", Value: "bearer 0123456789abcdef"})
	if r := b.ft.waitFor(t, "5", kind("http")); statusCode(r.text) != "200" {
		t.Errorf("a lower-case bearer answered %q", r.text)
	}
}

// TestSysopBehindAProxyNeedsTheToken: behind a reverse proxy on the
// machine itself every caller comes from the loopback with a loopback
// Host; a request that shows the proxy's headers is told to use a token.
func TestSysopBehindAProxyNeedsTheToken(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.ft.in <- request("POST", "1", "/status/broadcast", "Forged.", withHeaders(sysopTool,
		m2proto.Header{Name: "x-real-ip", Value: "203.0.113.9"}, m2proto.Header{Name: "x-forwarded-proto", Value: "http"})...)
	if r := b.ft.waitFor(t, "1", kind("http")); statusCode(r.text) != "403" || !strings.Contains(r.text, "proxy") || !strings.Contains(r.text, "token") {
		t.Errorf("a proxied request answered %q", r.text)
	}
	httpGet(b, "2", "/status", withHeaders(sysopTool, m2proto.Header{Name: "via", Value: "1.1 proxy"})...)
	if r := b.ft.waitFor(t, "2", kind("http")); strings.Contains(r.text, "heap_bytes") {
		t.Errorf("a proxied request saw the sysop's status: %s", r.text)
	}
}

// TestAnonymousStatusIsRedacted: anyone sees the counters; only the
// sysop sees load errors, the heap, goroutines and who is online.
func TestAnonymousStatusIsRedacted(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.host.mu.Lock()
	b.host.loadErr = "/home/sysop/bbs/scripts/main.lua:3: syntax error"
	b.host.mu.Unlock()

	for i, hs := range [][]m2proto.Header{
		nil, // a browser on the machine itself, or a plain curl
		{{Name: "REMOTE_ADDR", Value: "203.0.113.9"}},
		withHeaders(sysopTool, m2proto.Header{Name: "x-m2bbs-proxied-for", Value: "203.0.113.9"}),
	} {
		id := strconv.Itoa(100 + i)
		httpGet(b, id, "/status", hs...)
		r := b.ft.waitFor(t, id, kind("http"))
		st := decodeStatus(t, r.text)
		if st.Sessions.Active != 1 || st.Sessions.Started != 1 || len(st.Versions) != 1 {
			t.Errorf("anonymous status %d lost its counters: %+v", i, st)
		}
		for _, secret := range []string{"main.lua", "/home/sysop", "heap_bytes", "goroutines", "online", "load_error"} {
			if strings.Contains(r.text, secret) {
				t.Errorf("anonymous status %d shows %q: %s", i, secret, r.text)
			}
		}
	}

	httpGet(b, "22", "/status", sysopTool...)
	st := decodeStatus(t, b.ft.waitFor(t, "22", kind("http")).text)
	if len(st.Online) != 1 || !strings.Contains(st.LoadError, "main.lua") || st.HeapBytes == 0 || st.Goroutines == 0 {
		t.Errorf("the sysop's status = %+v", st)
	}
	httpGet(b, "24", "/status", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "online=0"})...)
	if st := decodeStatus(t, b.ft.waitFor(t, "24", kind("http")).text); len(st.Online) != 0 || st.HeapBytes == 0 {
		t.Errorf("the sysop's status with online=0 = %+v", st)
	}
}

// TestWrongTokensAreBounded: an address that sent MaxWrongTokens wrong
// tokens gets 429 for the rest of the window, even with the right one,
// and cannot dodge it by naming another address; other addresses and
// the machine itself are not locked out.
func TestWrongTokensAreBounded(t *testing.T) {
	const token = "0123456789abcdef"
	b := startBoard(t, versioned("v1"), Config{SysopToken: token})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	bearer := func(tok string) m2proto.Header { return m2proto.Header{Name: "authorization", Value: "Bearer " + tok} }
	attacker := m2proto.Header{Name: "REMOTE_ADDR", Value: "203.0.113.9"}
	n := 100
	post := func(hs ...m2proto.Header) string {
		n++
		id := strconv.Itoa(n)
		b.ft.in <- request("POST", id, "/status/broadcast", "Guess.", hs...)
		return statusCode(b.ft.waitFor(t, id, kind("http")).text)
	}
	for i := range MaxWrongTokens {
		if code := post(attacker, bearer(fmt.Sprintf("guess-%012d", i))); code != "403" {
			t.Fatalf("wrong token %d answered %s", i, code)
		}
	}
	if code := post(attacker, bearer(token)); code != "429" {
		t.Errorf("the right token after %d wrong ones answered %s, want 429", MaxWrongTokens, code)
	}
	if code := post(attacker, bearer(token), m2proto.Header{Name: "x-m2bbs-proxied-for", Value: "198.51.100.1"}); code != "429" {
		t.Errorf("naming another address answered %s, want 429", code)
	}
	if code := post(m2proto.Header{Name: "REMOTE_ADDR", Value: "198.51.100.7"}, bearer(token)); code != "200" {
		t.Errorf("the sysop from another address answered %s", code)
	}
	// Behind a proxy on the machine everyone is the loopback: it is not
	// counted, so the sysop's tools there keep working.
	for range MaxWrongTokens + 1 {
		post(bearer("wrong-wrong-wrong-wrong"))
	}
	if code := post(bearer(token)); code != "200" {
		t.Errorf("the sysop on the machine itself answered %s", code)
	}
}
