package access

import (
	"net"
	"testing"
)

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"127.0.0.1", "127.0.0.1"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := AddrKeyString(tc.in); got != tc.want {
			t.Errorf("AddrKeyString(%q) = %q, want %q", tc.in, got, tc.want)
		}
		ip := net.ParseIP(tc.in)
		if ip == nil {
			continue // a zone: no net.IP
		}
		if got := AddrKey(ip); got != tc.want {
			t.Errorf("AddrKey(%v) = %q, want %q", ip, got, tc.want)
		}
	}
}

func TestAddrKeyString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1:4242", "192.0.2.1"},
		{"[2001:db8:1:2::99]:23", "2001:db8:1:2::/64"},
		{"[::ffff:198.51.100.7]:80", "198.51.100.7"},
		{"", ""},
		{"@/run/m2bbs.sock", "@/run/m2bbs.sock"},
		{"not an address", "not an address"},
	} {
		if got := AddrKeyString(tc.in); got != tc.want {
			t.Errorf("AddrKeyString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := AddrKey(nil); got != "" {
		t.Errorf("AddrKey(nil) = %q, want \"\"", got)
	}
}
