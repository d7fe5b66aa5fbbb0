package frontend

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitStats waits until the front end's counters satisfy ok, what they
// are to show. The front end has no signal for a frame read or a caller
// closed, so it polls them.
func waitStats(t *testing.T, s *Server, what string, ok func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !ok(s.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("the front end's counters never showed %s: %+v", what, s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHoldKeepsLinesUntilTheRouteMoves is a drain as the sysop's callers
// see it: ann's first line reaches line 1; with line 1 held, her second
// waits in the front end, and once line 1's route has moved and the hold
// is released it reaches line 2, where her session now is. Bob, who
// typed on line 1 before the drain and hangs up after it, and Dee, who
// hangs up during it, are heard hanging up by line 2, which took their
// sessions over, not by line 1.
func TestHoldKeepsLinesUntilTheRouteMoves(t *testing.T) {
	h1 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line1"}
	h2 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line2"}
	s := builtIn(t, Config{Routes: []Route{{"@bbs.1", h1}, {"@bbs.2", h2}}})
	r1 := dialRawHandler(t, h1.SendSpec, h1.RecvSpec)
	r2 := dialRawHandler(t, h2.SendSpec, h2.RecvSpec)

	ann, bob, dee := dial(t, s.Addr().String()), dial(t, s.Addr().String()), dial(t, s.Addr().String())
	write(t, ann, `@bbs.1 {"msg":"A"}`+"\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("line1 1 @bbs.1 ")) {
		t.Fatalf("line 1 got %q, want ann's first line", msg)
	}
	write(t, bob, `@bbs.1 {"msg":"hi"}`+"\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("line1 2 @bbs.1 ")) {
		t.Fatalf("line 1 got %q, want bob's line", msg)
	}

	write(t, dee, `@bbs.1 {"msg":"hello"}`+"\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("line1 3 @bbs.1 ")) {
		t.Fatalf("line 1 got %q, want dee's line", msg)
	}

	if _, err := s.Hold("@bbs.1", "@bbs.9"); !errors.Is(err, ErrNoSuchRoute) {
		t.Errorf("Hold of a route that does not exist: %v, want ErrNoSuchRoute", err)
	}
	release, err := s.Hold("@bbs.1", "@bbs.1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := s.Hold("@bbs.2", "@bbs.1"); !errors.Is(err, ErrHeld) {
		t.Errorf("Hold of a route held already: %v, want ErrHeld", err)
	}
	if _, err := s.Sent("line9"); !errors.Is(err, ErrNoSuchHandler) {
		t.Errorf("Sent of a handler that does not exist: %v, want ErrNoSuchHandler", err)
	}
	if n, err := s.Sent("line1"); err != nil || n != 3 {
		t.Errorf("Sent(line1) = %d, %v; want the 3 lines line 1 got", n, err)
	}
	write(t, ann, `@bbs.1 {"msg":"B"}`+"\x00")
	waitStats(t, s, "ann's second line read", func(st Stats) bool { return st.FramesIn == 4 })
	dee.Close()
	waitStats(t, s, "dee hung up", func(st Stats) bool { return st.Closed[CloseHangUp] == 1 })
	// Another route is not held.
	cy := dial(t, s.Addr().String())
	write(t, cy, `@bbs.2 {"msg":"C"}`+"\x00")
	if msg := r2.next(t); !bytes.HasPrefix(msg, []byte("line2 4 @bbs.2 ")) {
		t.Fatalf("line 2 got %q, want cy's line", msg)
	}
	if n, _ := s.Sent("line1"); n != 3 || s.Stats().RequestsOut != 4 {
		t.Fatalf("with line 1 held, ann's second line was passed on: line 1 sent %d, requests out %d", n, s.Stats().RequestsOut)
	}

	if err := s.Reroute("@bbs.1", "line2"); err != nil {
		t.Fatal(err)
	}
	release()
	release() // a second release does nothing
	// Dee's hang-up and Ann's second line, in either order.
	var deeGone, annB bool
	for range 2 {
		msg := r2.next(t)
		switch {
		case string(msg) == `line2 3 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`:
			deeGone = true
		case bytes.HasPrefix(msg, []byte("line2 1 @bbs.1 ")) && bytes.Contains(msg, []byte(`"B"`)):
			annB = true
		default:
			t.Fatalf("line 2 got %q, want ann's second line or dee's hang-up", msg)
		}
	}
	if !deeGone || !annB {
		t.Fatalf("line 2 got dee's hang-up %v, ann's second line %v", deeGone, annB)
	}
	bob.Close()
	if got, want := string(r2.next(t)), `line2 2 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`; got != want {
		t.Errorf("line 2 got %q, want bob's hang-up", got)
	}
	select {
	case msg := <-r1.requests:
		t.Errorf("line 1 got %q after its route moved", msg)
	default:
	}
}

// TestHoldEndsForACallerClosedMeanwhile: a held caller whose connection
// the front end closes (here: the server stopping) does not wait for the
// release.
func TestHoldEndsForACallerClosedMeanwhile(t *testing.T) {
	h1 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line1"}
	s := builtIn(t, Config{Routes: []Route{{"@bbs.1", h1}}})
	dialRawHandler(t, h1.SendSpec, h1.RecvSpec)
	release, err := s.Hold("@bbs.1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c := dial(t, s.Addr().String())
	write(t, c, `@bbs.1 {"msg":"A"}`+"\x00")
	waitStats(t, s, "the line read", func(st Stats) bool { return st.FramesIn == 1 })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("the server did not stop while a caller was held")
	}
}

// TestHoldWithACloseUnderWayDoesNotDeadlock: the drain's Hold must return even when, as it starts, one of the held
// route's callers is being closed by another goroutine (the writer after
// a failed write, CloseWriteFailed, or the handler's reply goroutine for
// a slow reader, CloseSlowReader: both close with the notice) while their
// reader is passing their next line on.
//
// The interleaving, each step what the real goroutines do:
//
//  1. ann's reader takes the route's gate for reading (conn.pass) and goes
//     on to forward, which wants ann's sendMu;
//  2. the closer has taken ann's sendMu first (conn.close) and is about to
//     notify (conn.notifyRoute), which read-locks the same gate;
//  3. the sysop's drain calls Hold, whose gate.Lock waits for ann's reader.
//
// A pending Lock blocks new RLocks, so the closer waits for Hold, Hold for
// the reader, the reader for the closer's sendMu: none ever moves on. The
// test holds ann's sendMu only to make the closer win it before the
// reader (the scheduler can do the same on its own); it takes nothing
// else.
func TestHoldWithACloseUnderWayDoesNotDeadlock(t *testing.T) {
	h1 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line1"}
	// Not builtIn: if the front end deadlocks, Close would hang the test
	// binary; the stuck server is left behind instead.
	s, err := Listen(Config{Addr: "127.0.0.1:0", FirstConnID: 1, Routes: []Route{{"@bbs.1", h1}}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	r1 := dialRawHandler(t, h1.SendSpec, h1.RecvSpec)

	ann := dial(t, s.Addr().String())
	write(t, ann, `@bbs.1 {"msg":"A"}`+"\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("line1 1 @bbs.1 ")) {
		t.Fatalf("line 1 got %q, want ann's first line", msg)
	}
	c := s.lookup(1)
	if c == nil {
		t.Fatal("ann's connection is not registered")
	}

	c.sendMu.Lock()
	closed := make(chan struct{})
	go func() { // what writeLoop does when a write to ann fails
		c.close(CloseWriteFailed, true)
		close(closed)
	}()
	time.Sleep(50 * time.Millisecond) // the closer waits for sendMu

	write(t, ann, `@bbs.1 {"msg":"B"}`+"\x00")
	waitStats(t, s, "ann's second line read", func(st Stats) bool { return st.FramesIn == 2 })
	time.Sleep(50 * time.Millisecond) // her reader holds the gate, waits for sendMu

	held := make(chan func(), 1)
	go func() {
		release, err := s.Hold("@bbs.1")
		if err != nil {
			t.Error(err)
			release = func() {}
		}
		held <- release
	}()
	time.Sleep(50 * time.Millisecond) // Hold waits for ann's reader
	c.sendMu.Unlock()

	select {
	case release := <-held:
		release()
		<-closed
		s.Close()
		<-served
	case <-time.After(3 * time.Second):
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var where []string
		for _, fn := range []string{"(*conn).notifyRoute", "(*conn).forward", "(*Server).Hold"} {
			if strings.Contains(stacks, fn) {
				where = append(where, fn)
			}
		}
		t.Fatalf("Hold has not returned after 3 s: the drain hangs for good, holding the route "+
			"(every caller's next line on it waits on the gate); goroutines stuck in %v", where)
	}
}
