package netlimit

import (
	"net"
	"testing"
)

// An address gets as many connections as the limit allows; the next is
// refused, and once one of the admitted closes, another is admitted.
func TestListenerAdmitsUpToTheLimitAndReleasesOnClose(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan Verdict, 4)
	ln := NewListener(inner, New(Limits{MaxPerAddr: 2, AcceptRate: -1}, nil), func(c net.Conn, v Verdict) {
		c.Close()
		refused <- v
	})
	defer ln.Close()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	accept := func() net.Conn {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dial()
	dial()
	first, second := accept(), accept()
	defer second.Close()
	// Two more from 127.0.0.1 while two are open: both refused, and
	// Accept goes on waiting.
	dial()
	dial()
	got := make(chan net.Conn)
	go func() { got <- accept() }()
	for i := range 2 {
		if v := <-refused; v != TooManyFromAddr {
			t.Fatalf("connection %d of 4: %v, want %v", i+3, v, TooManyFromAddr)
		}
	}
	first.Close()
	first.Close() // released once, however often closed
	dial()        // admitted: one of the two went
	c := <-got
	defer c.Close()
	if n := ln.limiter.Open(c.RemoteAddr()); n != 2 {
		t.Errorf("%d connections counted open, want 2", n)
	}
}
