package frontend

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

func TestPerAddressConnectionCap(t *testing.T) {
	b := startBBS(t, Limits{PerAddr: netlimit.Limits{MaxPerAddr: 2, AcceptRate: -1}})
	first, id := b.connect(t)
	b.connect(t)
	extra := dial(t, b.addr())
	if got := readToEOF(t, extra); len(got) != 0 {
		t.Errorf("third caller from one address got %q", got)
	}
	first.Close()
	b.waitDisconnect(t, id)
	b.connect(t) // the address has room again
	if n := b.s.Stats().Closed[CloseTooManyFromAddr]; n != 1 {
		t.Errorf("refused as too many from the address: %d, want 1", n)
	}
}

func TestAcceptRatePerAddress(t *testing.T) {
	// A burst of 3 and a refill too slow to matter during the test.
	b := startBBS(t, Limits{PerAddr: netlimit.Limits{MaxPerAddr: -1, AcceptRate: 0.001, AcceptBurst: 3}})
	for range 3 {
		b.connect(t)
	}
	extra := dial(t, b.addr())
	if got := readToEOF(t, extra); len(got) != 0 {
		t.Errorf("fourth caller in a burst of 3 got %q", got)
	}
	if n := b.s.Stats().Closed[CloseAcceptRate]; n != 1 {
		t.Errorf("refused for connecting too fast: %d, want 1", n)
	}
}

func TestFirstFrameDeadline(t *testing.T) {
	b := startBBS(t, Limits{FirstFrameTimeout: 300 * time.Millisecond})
	silent := dial(t, b.addr())
	partial := dial(t, b.addr())
	write(t, partial, `@bbs {"type":"msg",`)
	session, id := b.connect(t)
	start := time.Now()
	for _, c := range []net.Conn{silent, partial} {
		if got := readToEOF(t, c); len(got) != 0 {
			t.Errorf("caller without a first frame got %q", got)
		}
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("silent callers closed after %v, want about 300ms", waited)
	}
	if n := b.s.Stats().Closed[CloseNoFirstFrame]; n != 2 {
		t.Errorf("closed for no first frame: %d, want 2", n)
	}
	// A caller who sent a frame in time is still served.
	write(t, session, `@bbs {"type":"msg","msg":"still here"}`+"\x00")
	if req := b.request(t); req.ConnID != id || !strings.Contains(string(req.Body), "still here") {
		t.Errorf("want the caller's line, got %s %q", req.ConnID, req.Body)
	}
}

func TestMalformedFramesHangUp(t *testing.T) {
	b := startBBS(t, Limits{MaxBadFrames: 3})
	c, id := b.connect(t)
	for i := range 3 {
		write(t, c, "@bbs {not json}\x00")
		if i < 2 { // the first ones go on, as Mongrel2 sends them
			if req := b.request(t); req.ConnID != id || string(req.Body) != "{not json}" {
				t.Fatalf("malformed frame %d: handler got %s %q", i+1, req.ConnID, req.Body)
			}
		}
	}
	if got := string(readToEOF(t, c)); !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request") {
		t.Errorf("after the third malformed frame the caller got %q, want 400 then the close", got)
	}
	b.waitDisconnect(t, id)
	if n := b.s.Stats().Closed[CloseMalformedFrames]; n != 1 {
		t.Errorf("closed for malformed frames: %d, want 1", n)
	}
}
