package access

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	allow := Origins{Patterns: []string{"*.example.org", "https://bbs.example.net"}}
	for _, tc := range []struct {
		origin, host string
		ok           bool
	}{
		{"", "127.0.0.1:6767", true},
		{"http://127.0.0.1:6767", "127.0.0.1:6767", true},
		{"https://127.0.0.1:6767", "127.0.0.1:6767", true}, // behind a TLS proxy
		{"http://LOCALHOST:8080", "localhost:8080", true},
		{"http://[::1]:8080", "[::1]:8080", true},
		{"http://10.0.0.1:6767", "10.0.0.1:6767", true},
		{"http://127.0.0.1:8000", "127.0.0.1:6767", false},
		{"http://evil.example", "127.0.0.1:6767", false},
		{"http://evil.example", "", false},
		{"null", "127.0.0.1:6767", false},
		{"not a url", "127.0.0.1:6767", false},
		{"https://bbs.example.org", "10.0.0.1:6767", true},
		{"https://example.org", "10.0.0.1:6767", false},
		{"https://bbs.example.org.evil.example", "10.0.0.1:6767", false},
		{"https://bbs.example.net", "10.0.0.1:6767", true},
		{"http://bbs.example.net", "10.0.0.1:6767", false},
		// DNS rebinding: a page of the attacker's name, resolved to the
		// board's address, is same-origin with its own Host.
		{"http://evil.example:6767", "evil.example:6767", false},
		{"http://rebind.evil.example:8080", "REBIND.evil.example:8080", false},
		{"http://localhost.evil.example:6767", "localhost.evil.example:6767", false},
		{"http://127.0.0.1.nip.io:6767", "127.0.0.1.nip.io:6767", false},
		// A name the sysop listed (patterns name host:port).
		{"https://bbs.example.org", "bbs.example.org", true},
		{"http://bbs.example.org:8080", "bbs.example.org:8080", false},
	} {
		err := allow.Check(tc.origin, tc.host)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%q, %q) = %v, want ok %v", tc.origin, tc.host, err, tc.ok)
		}
	}
	if err := (Origins{Patterns: []string{"null"}}).Check("null", "x"); err != nil {
		t.Errorf("a listed null origin: %v", err)
	}
	if err := (Origins{}).Check("http://evil.example:6767", "evil.example:6767"); err == nil || !strings.Contains(err.Error(), "-ws-origins") {
		t.Errorf("a rebound name: %v, want a refusal that names -ws-origins", err)
	}
}

// TestCheckOriginPublicBoard: a board open to the network (-listen-all)
// takes its own pages under any name it is reached by, and still no
// other site's.
func TestCheckOriginPublicBoard(t *testing.T) {
	public := Origins{AnyName: true}
	for _, tc := range []struct {
		origin, host string
		ok           bool
	}{
		{"http://bbs.example.org:8080", "bbs.example.org:8080", true},
		{"https://BBS.example.org", "bbs.example.org", true},
		{"http://evil.example", "bbs.example.org:8080", false},
		{"http://bbs.example.org:9999", "bbs.example.org:8080", false},
		{"null", "bbs.example.org:8080", false},
	} {
		if err := public.Check(tc.origin, tc.host); (err == nil) != tc.ok {
			t.Errorf("Check(%q, %q) = %v, want ok %v", tc.origin, tc.host, err, tc.ok)
		}
	}
}

func TestProxyHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Forwarded": true, "via": true, "X-Real-IP": true, "x-forwarded-host": true, "X-Forwarded-Proto": true,
		"x-forwarded-for": false, "host": false, "x-m2bbs-proxied-for": false, "": false,
	} {
		if got := ProxyHeader(name); got != want {
			t.Errorf("ProxyHeader(%q) = %v", name, got)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		in, token string
		ok        bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
		{"Bearerabc", "", false},
	} {
		if token, ok := BearerToken(tc.in); token != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v", tc.in, token, ok)
		}
	}
}

func TestParsePatterns(t *testing.T) {
	got, err := ParsePatterns(" bbs.example.org, *.example.net ,,")
	if err != nil || len(got) != 2 || got[0] != "bbs.example.org" || got[1] != "*.example.net" {
		t.Errorf("ParsePatterns = %q, %v", got, err)
	}
	if got, err := ParsePatterns(""); err != nil || got != nil {
		t.Errorf("empty list = %q, %v", got, err)
	}
	if _, err := ParsePatterns("[bad"); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost:6767": true, "127.0.0.1": true, "127.0.0.1:6767": true, "127.1.2.3:80": true,
		"[::1]:6767": true, "[::1]": true, "::1": true,
		"": false, "evil.example:6767": false, "localhost.evil.example": false, "10.0.0.1:6767": false,
		"0.0.0.0:6767": false, "[::]:6767": false, "127.0.0.1.nip.io": false,
	} {
		if got := LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v", host, got)
		}
	}
}

func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:5000": true, "::1": true, "[::1]:5000": true,
		"": false, "203.0.113.9": false, "203.0.113.9:5000": false, "localhost": false,
	} {
		if got := LoopbackAddr(addr); got != want {
			t.Errorf("LoopbackAddr(%q) = %v", addr, got)
		}
	}
}

func TestCrossSite(t *testing.T) {
	for v, want := range map[string]bool{"": false, "none": false, "same-origin": false, "same-site": true, "cross-site": true, "junk": true} {
		if got := CrossSite(v); got != want {
			t.Errorf("CrossSite(%q) = %v", v, got)
		}
	}
}

func TestCheckPublic(t *testing.T) {
	if err := CheckPublic(""); !errors.Is(err, ErrNoToken) {
		t.Errorf("no token: %v", err)
	}
	if err := CheckPublic("short"); !errors.Is(err, ErrShortToken) {
		t.Errorf("a short token: %v", err)
	}
	if err := CheckPublic("0123456789abcdef"); err != nil {
		t.Errorf("a good token: %v", err)
	}
}

func TestCheckToken(t *testing.T) {
	if err := CheckToken(""); err != nil {
		t.Errorf("no token: %v", err)
	}
	for _, weak := range []string{"change me", "s3cret", "0123456789abcde"} {
		if err := CheckToken(weak); !errors.Is(err, ErrShortToken) || strings.Contains(err.Error(), weak) {
			t.Errorf("CheckToken(%q) = %v, want ErrShortToken without the token", weak, err)
		}
	}
	if err := CheckToken("0123456789abcdef"); err != nil {
		t.Errorf("a good token: %v", err)
	}
}

// FuzzCheckOrigin: any Origin and Host are answered without a panic; on
// a public board an Origin whose host is the Host header is allowed and
// with no pattern any other one that has a host is refused; on a
// loopback board a name is allowed only if loopback or an address.
func FuzzCheckOrigin(f *testing.F) {
	f.Add("http://127.0.0.1:6767", "127.0.0.1:6767")
	f.Add("null", "localhost")
	f.Add("http://[::1", "[::1]:80")
	f.Fuzz(func(t *testing.T, origin, host string) {
		_ = Origins{Patterns: []string{"*.example.org", "https://x.example"}}.Check(origin, host)
		_ = LoopbackHost(host)
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" {
			return
		}
		same := strings.EqualFold(u.Host, host)
		if got := (Origins{AnyName: true}).Check(origin, host) == nil; got != same {
			t.Fatalf("public Check(%q, %q) allowed %v, want %v", origin, host, got, same)
		}
		if (Origins{}).Check(origin, host) == nil && !(same && (LoopbackHost(host) || addressHost(host))) {
			t.Fatalf("Check(%q, %q) allowed a name that is neither loopback nor an address", origin, host)
		}
	})
}
