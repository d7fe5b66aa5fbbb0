package dispatch

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// TestSysopOnlyRefusesEveryActionWithoutTheToken: on a board with a sysop
// token, every sysop action asked without it (none, a wrong one, another
// scheme, the loopback tool's header) is answered 403 by the one
// middleware and does nothing; with it, the action is taken.
func TestSysopOnlyRefusesEveryActionWithoutTheToken(t *testing.T) {
	const token = "0123456789abcdef"
	var drains atomic.Int32
	b := startBoardDeps(t, versioned("v1"), Config{SysopToken: token}, Deps{
		Drain: func(context.Context, int, int) (int, error) { drains.Add(1); return 0, nil },
	})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))

	without := []struct {
		name    string
		headers []m2proto.Header
	}{
		{"no token", nil},
		{"no token, the loopback tool's header", sysopTool},
		{"a wrong token", []m2proto.Header{{Name: "authorization", Value: "Bearer " + token + "0"}}},
		{"another scheme", []m2proto.Header{{Name: "authorization", Value: "Basic " + token}}},
		{"the token in the query", []m2proto.Header{{Name: "QUERY", Value: "token=" + token}}},
		{"the token from afar, in another header", []m2proto.Header{{Name: "REMOTE_ADDR", Value: "203.0.113.9"},
			{Name: "x-sysop-token", Value: token}}},
	}
	query := map[string]string{"/kick": "conn_id=1", "/drain": "line=1&to=2"}
	n := 100
	for _, a := range b.host.sysopActions() {
		for _, tc := range without {
			n++
			id := strconv.Itoa(n)
			hs := tc.headers
			if q := query[a.path]; q != "" && tc.name != "the token in the query" {
				hs = withHeaders(hs, m2proto.Header{Name: "QUERY", Value: q})
			}
			b.ft.in <- request("POST", id, StatusPath+a.path, "Forged.", hs...)
			r := b.ft.waitFor(t, id, kind("http"))
			if statusCode(r.text) != "403" || !strings.Contains(r.text, "sysop only: send the sysop token") {
				t.Errorf("%s, %s: answered %q, want 403", a.path, tc.name, r.text)
			}
		}
	}
	if drains.Load() != 0 {
		t.Errorf("a refused drain reached Deps.Drain")
	}

	bearer := m2proto.Header{Name: "authorization", Value: "Bearer " + token}
	b.ft.in <- request("POST", "2", StatusPath+"/broadcast", "The sysop speaks.", bearer)
	if r := b.ft.waitFor(t, "2", kind("http")); statusCode(r.text) != "200" {
		t.Errorf("the sysop's broadcast answered %q", r.text)
	}
	// Caller 1 is still online and was shown nothing forged first.
	if r := b.ft.waitFor(t, "1", kind("screen")); r.text != "The sysop speaks." {
		t.Errorf("caller 1 was shown %q first", r.text)
	}
	b.ft.in <- request("POST", "3", StatusPath+"/drain", "", bearer, m2proto.Header{Name: "QUERY", Value: "line=1&to=2"})
	if r := b.ft.waitFor(t, "3", kind("http")); statusCode(r.text) != "200" || drains.Load() != 1 {
		t.Errorf("the sysop's drain answered %q, Deps.Drain called %d times", r.text, drains.Load())
	}
}

// TestSysopOnlyMiddleware: the middleware is plain net/http: without the
// token it answers 403 itself and never calls the action; with it, the
// action answers.
func TestSysopOnlyMiddleware(t *testing.T) {
	h := &Host{cfg: Config{SysopToken: "0123456789abcdef"}, log: slog.New(slog.DiscardHandler)}
	for _, a := range h.sysopActions() {
		called := 0
		guarded := h.sysopOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			called++
			_, _ = io.WriteString(w, "done")
		}))
		for _, auth := range []string{"", "Bearer wrong-wrong-wrong", "Bearer 0123456789abcdef"} {
			r := httptest.NewRequest(http.MethodPost, StatusPath+a.path, nil)
			r.RemoteAddr = "203.0.113.9:4000"
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			guarded.ServeHTTP(w, r)
			want := http.StatusForbidden
			if strings.HasSuffix(auth, "0123456789abcdef") {
				want = http.StatusOK
			}
			if w.Code != want || (want == http.StatusForbidden) != strings.HasPrefix(w.Body.String(), "sysop only") {
				t.Errorf("%s with %q: %d %q, want %d", a.path, auth, w.Code, w.Body, want)
			}
		}
		if called != 1 {
			t.Errorf("%s: the action ran %d times, want once (with the token)", a.path, called)
		}
	}
}

// TestHTTPPagesMethodsAndPaths: a page asked with the wrong method says
// which to use; a path that is not a page's own name is not found (never
// redirected); HEAD reads the status page.
func TestHTTPPagesMethodsAndPaths(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	for i, tc := range []struct {
		method, path, code, text string
	}{
		{"POST", "/status", "405", "use GET\n"},
		{"DELETE", "/lines", "405", "use GET\n"},
		{"GET", "/status/kick", "405", "use POST\n"},
		{"PUT", "/status/broadcast", "405", "use POST\n"},
		{"GET", "/status/", "404", "not found\n"},
		{"GET", "/status/../status", "404", "not found\n"},
		{"GET", "//status", "404", "not found\n"},
		{"GET", "/st%61tus", "404", "not found\n"},
		{"POST", "/status/nothing", "404", "not found\n"},
		{"HEAD", "/status", "200", `"sessions"`},
		{"GET", "/lines", "200", "[]\n"},
	} {
		id := strconv.Itoa(100 + i)
		b.ft.in <- request(tc.method, id, tc.path, "", sysopTool...)
		r := b.ft.waitFor(t, id, kind("http"))
		if statusCode(r.text) != tc.code || !strings.Contains(r.text, tc.text) {
			t.Errorf("%s %s answered %q, want %s %q", tc.method, tc.path, r.text, tc.code, tc.text)
		}
		if strings.Contains(r.text, "Location") {
			t.Errorf("%s %s was redirected: %q", tc.method, tc.path, r.text)
		}
	}
}

// TestHTTPRequestFromMongrel2: the *http.Request of a Mongrel2 request
// takes method, path, query and address from the front end's own headers;
// a caller sending headers of the same names in lower case changes none.
func TestHTTPRequestFromMongrel2(t *testing.T) {
	req := &m2proto.Request{Sender: "s1", ConnID: "7", Path: "/status", Body: []byte("hi"), Headers: []m2proto.Header{
		{Name: "PATH", Value: "/status/kick"}, {Name: "METHOD", Value: "POST"}, {Name: "QUERY", Value: "conn_id=3"},
		{Name: "REMOTE_ADDR", Value: "203.0.113.9"}, {Name: "host", Value: "bbs.example.org"},
		{Name: "remote_addr", Value: "127.0.0.1"}, {Name: "path", Value: "/lines"}, {Name: "method", Value: "GET"},
		{Name: "x-m2bbs-proxied-for", Value: "198.51.100.1"}, {Name: "x-m2bbs-proxied-for", Value: "198.51.100.2"},
	}}
	r := newHTTPRequest(t.Context(), req)
	body, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.URL.Path != "/status/kick" || r.URL.Query().Get("conn_id") != "3" ||
		r.RemoteAddr != "203.0.113.9" || r.Host != "bbs.example.org" || string(body) != "hi" || connIDOf(r.Context()) != "7" {
		t.Errorf("request = %s %s ? %s from %s host %s body %q conn %q", r.Method, r.URL.Path, r.URL.RawQuery,
			r.RemoteAddr, r.Host, body, connIDOf(r.Context()))
	}
	if got := r.Header.Values("X-M2BBS-Proxied-For"); len(got) != 2 || got[1] != "198.51.100.2" {
		t.Errorf("proxied-for headers = %q", got)
	}
	if r.Header.Get("Host") != "" || r.Header.Get("Path") != "/lines" {
		t.Errorf("headers = %v", r.Header)
	}
}

// FuzzRoutablePathsAreNeverRedirected: a path routable lets through
// reaches a page or the 404, never the ServeMux's redirect (asked with a
// method no page takes, so only the 404 and 405 answers run).
func FuzzRoutablePathsAreNeverRedirected(f *testing.F) {
	for _, p := range []string{"/status", "/status/kick", "/lines", "/", "/status/", "/a/../status", "//status", "/./x", "x", "", "/%2e%2e/status", "/status//kick"} {
		f.Add(p)
	}
	mux := (&Host{}).routes()
	f.Fuzz(func(t *testing.T, p string) {
		if !routable(p) {
			return
		}
		w := newReplyWriter()
		mux.ServeHTTP(w, &http.Request{Method: "OPTIONS", URL: &url.URL{Path: p}, Header: http.Header{}})
		if w.code != http.StatusNotFound && w.code != http.StatusMethodNotAllowed {
			t.Errorf("%q answered %d %q", p, w.code, w.body.String())
		}
	})
}
