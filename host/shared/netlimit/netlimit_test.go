package netlimit

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func tcp(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }

func TestMaxPerAddr(t *testing.T) {
	l := New(Limits{MaxPerAddr: 2, AcceptRate: -1}, nil)
	_, r1 := l.Admit(tcp("192.0.2.1"))
	_, r2 := l.Admit(tcp("192.0.2.1"))
	if v, _ := l.Admit(tcp("192.0.2.1")); v != TooManyFromAddr {
		t.Fatalf("third connection: %v, want %v", v, TooManyFromAddr)
	}
	if v, _ := l.Admit(tcp("192.0.2.2")); v != Admitted {
		t.Fatalf("another address: %v", v)
	}
	r1()
	r1() // twice is once
	if v, _ := l.Admit(tcp("192.0.2.1")); v != Admitted {
		t.Fatalf("after a release: %v", v)
	}
	r2()
	if n := l.Open(tcp("192.0.2.1")); n != 1 {
		t.Fatalf("open = %d, want 1", n)
	}
}

func TestAcceptRate(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(Limits{MaxPerAddr: -1, AcceptRate: 10, AcceptBurst: 3}, func() time.Time { return now })
	for i := range 3 {
		if v, _ := l.Admit(tcp("198.51.100.7")); v != Admitted {
			t.Fatalf("connection %d of the burst: %v", i, v)
		}
	}
	if v, _ := l.Admit(tcp("198.51.100.7")); v != TooFast {
		t.Fatalf("past the burst: %v, want %v", v, TooFast)
	}
	now = now.Add(100 * time.Millisecond) // one token at 10/s
	if v, _ := l.Admit(tcp("198.51.100.7")); v != Admitted {
		t.Fatalf("after a refill: %v", v)
	}
	if v, _ := l.Admit(tcp("198.51.100.7")); v != TooFast {
		t.Fatalf("second after a refill of one: %v", v)
	}
}

func TestIPv6CountsBySlash64AndPipesAreFree(t *testing.T) {
	l := New(Limits{MaxPerAddr: 1, AcceptRate: -1}, nil)
	l.Admit(tcp("2001:db8:1:2::1"))
	if v, _ := l.Admit(tcp("2001:db8:1:2::ffff")); v != TooManyFromAddr {
		t.Fatalf("same /64: %v", v)
	}
	if v, _ := l.Admit(tcp("2001:db8:1:3::1")); v != Admitted {
		t.Fatalf("another /64: %v", v)
	}
	near, far := net.Pipe()
	defer near.Close()
	defer far.Close()
	for range 3 {
		if v, _ := l.Admit(far.RemoteAddr()); v != Admitted {
			t.Fatalf("pipe: %v", v)
		}
	}
}

func TestIdleAddressesAreForgotten(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(Limits{}, func() time.Time { return now })
	_, release := l.Admit(tcp("192.0.2.9"))
	release()
	now = now.Add(2 * sweepEvery)
	l.Admit(tcp("192.0.2.10"))
	l.mu.Lock()
	_, kept := l.addrs[mustKey(t, tcp("192.0.2.9"))]
	l.mu.Unlock()
	if kept {
		t.Fatal("an address with nothing open and a full bucket is still remembered")
	}
}

func mustKey(t *testing.T, a net.Addr) netip.Prefix {
	t.Helper()
	key, ok := Key(a)
	if !ok {
		t.Fatalf("no key for %v", a)
	}
	return key
}
