package access

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	patterns := []string{"*.example.org", "https://bbs.example.net"}
	for _, tc := range []struct {
		origin, host string
		ok           bool
	}{
		{"", "127.0.0.1:6767", true},
		{"http://127.0.0.1:6767", "127.0.0.1:6767", true},
		{"http://LOCALHOST:8080", "localhost:8080", true},
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
	} {
		err := CheckOrigin(tc.origin, tc.host, patterns)
		if (err == nil) != tc.ok {
			t.Errorf("CheckOrigin(%q, %q) = %v, want ok %v", tc.origin, tc.host, err, tc.ok)
		}
	}
	if err := CheckOrigin("null", "x", []string{"null"}); err != nil {
		t.Errorf("a listed null origin: %v", err)
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
	if err := CheckPublic("short"); err == nil {
		t.Error("a short token was accepted")
	}
	if err := CheckPublic("0123456789abcdef"); err != nil {
		t.Errorf("a good token: %v", err)
	}
}

// FuzzCheckOrigin: any Origin and Host are answered without a panic; an
// Origin whose host is the Host header is allowed, and with no pattern
// any other one that has a host is refused.
func FuzzCheckOrigin(f *testing.F) {
	f.Add("http://127.0.0.1:6767", "127.0.0.1:6767")
	f.Add("null", "localhost")
	f.Add("http://[::1", "[::1]:80")
	f.Fuzz(func(t *testing.T, origin, host string) {
		_ = CheckOrigin(origin, host, []string{"*.example.org", "https://x.example"})
		_ = LoopbackHost(host)
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" {
			return
		}
		same := strings.EqualFold(u.Host, host)
		if got := CheckOrigin(origin, host, nil) == nil; got != same {
			t.Fatalf("CheckOrigin(%q, %q) allowed %v, want %v", origin, host, got, same)
		}
	})
}
