package zmqtransport

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/freeport"
	"github.com/pebbe/zmq4"
)

// guard bounds every wait so a broken transport fails the test instead of
// hanging it; it is never how a test synchronises.
const guard = 10 * time.Second

// freeTCP returns a tcp:// endpoint on a port that was free a moment ago.
func freeTCP(t testing.TB) string {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", port)
}

type specs struct {
	send, recv string
	ctx        *zmq4.Context // shared by both sides for inproc, else nil
}

func tcpSpecs(t testing.TB) specs { return specs{send: freeTCP(t), recv: freeTCP(t)} }

func inprocSpecs(t testing.TB) specs {
	ctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after both transports' Close.
	t.Cleanup(func() { termWithin(t, ctx) })
	name := fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
	return specs{send: "inproc://send-" + name, recv: "inproc://recv-" + name, ctx: ctx}
}

// termWithin terminates ctx, failing if that hangs (a socket left open).
func termWithin(t testing.TB, ctx *zmq4.Context) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- ctx.Term() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Term: %v", err)
		}
	case <-time.After(guard):
		t.Errorf("Term of the shared context hangs: a socket was left open")
	}
}

func listen(t testing.TB, s specs, cfg ServerConfig) *Transport {
	t.Helper()
	cfg.SendSpec, cfg.RecvSpec, cfg.Context = s.send, s.recv, s.ctx
	srv, err := ListenServer(cfg)
	if err != nil {
		t.Fatalf("ListenServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func dial(t testing.TB, s specs) *Transport {
	t.Helper()
	h, err := DialHandler(HandlerConfig{SendSpec: s.send, RecvSpec: s.recv, Identity: "test-handler", Context: s.ctx})
	if err != nil {
		t.Fatalf("DialHandler: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func recv(t testing.TB, tr *Transport) []byte {
	t.Helper()
	select {
	case msg, ok := <-tr.Messages():
		if !ok {
			t.Fatalf("Messages closed early")
		}
		return msg
	case <-time.After(guard):
		t.Fatalf("no message within %v", guard)
	}
	return nil
}

func waitClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("%s did not happen within %v", what, guard)
	}
}

func TestRoundTrip(t *testing.T) {
	for name, mk := range map[string]func(testing.TB) specs{"tcp": tcpSpecs, "inproc": inprocSpecs} {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			srv := listen(t, s, ServerConfig{})
			h := dial(t, s)

			// A reply sent before the subscription arrived is held, not lost.
			early := []byte("m2bbs 1:1, early")
			if err := h.Send(early); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, srv); string(got) != string(early) {
				t.Fatalf("server got %q, want %q", got, early)
			}

			req := []byte(`m2bbs 1 @bbs 2:{},30:{"type":"msg","msg":"connect"},`)
			if err := srv.Send(req); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, h); string(got) != string(req) {
				t.Fatalf("handler got %q, want %q", got, req)
			}
			reply := []byte("m2bbs 1:1, hello")
			if err := h.Send(reply); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, srv); string(got) != string(reply) {
				t.Fatalf("server got %q, want %q", got, reply)
			}
			empty := []byte{}
			if err := srv.Send(empty); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, h); len(got) != 0 {
				t.Fatalf("handler got %q, want an empty message", got)
			}

			// After Close the counters are final.
			h.Close()
			srv.Close()
			if st := h.Stats(); st != (Stats{Received: 2, Sent: 2}) {
				t.Errorf("handler stats = %+v", st)
			}
			if st := srv.Stats(); st != (Stats{Received: 2, Sent: 2}) {
				t.Errorf("server stats = %+v", st)
			}
		})
	}
}

func TestSubscribed(t *testing.T) {
	s := tcpSpecs(t)
	h := dial(t, s)
	select {
	case <-h.Subscribed():
		t.Fatal("handler reports a subscription with no server running")
	default:
	}
	srv := listen(t, s, ServerConfig{})
	select {
	case <-srv.Subscribed():
	default:
		t.Fatal("server side's Subscribed is not closed from the start")
	}
	waitClosed(t, h.Subscribed(), "subscription")
}

func TestCloseUnblocksMessages(t *testing.T) {
	s := tcpSpecs(t) // nobody listens: the handler waits for a subscription
	h := dial(t, s)
	ranOut := make(chan struct{})
	go func() {
		for range h.Messages() {
		}
		close(ranOut)
	}()
	if err := h.Send([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Close hangs")
	}
	waitClosed(t, ranOut, "closing Messages")
	if err := h.Send([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if st := h.Stats(); st.Dropped != 1 || st.Sent != 0 {
		t.Errorf("stats after Close = %+v, want the queued message dropped", st)
	}
}

func TestCloseWhileServerBlocked(t *testing.T) {
	// A PUSH with no handler connected cannot send: the message waits in
	// the sending goroutine, and Close must still be prompt.
	srv := listen(t, tcpSpecs(t), ServerConfig{})
	if err := srv.Send([]byte("nobody reads this")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, ok := <-srv.Messages(); ok {
		t.Error("Messages still open after Close")
	}
	if st := srv.Stats(); st.Dropped != 1 || st.Sent != 0 {
		t.Errorf("stats = %+v, want 1 dropped", st)
	}
}

func TestSendQueueFull(t *testing.T) {
	srv := listen(t, tcpSpecs(t), ServerConfig{SendTimeout: 20 * time.Millisecond})
	attempts := 0
	var err error
	for attempts < QueueLength+10 {
		attempts++
		if err = srv.Send([]byte(strconv.Itoa(attempts))); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("after %d sends with nobody reading: err = %v, want ErrQueueFull", attempts, err)
	}
	if attempts < QueueLength+1 {
		t.Errorf("queue was full after %d messages, want room for %d", attempts-1, QueueLength)
	}
	srv.Close()
	if st := srv.Stats(); st.Dropped != uint64(attempts) || st.Sent != 0 {
		t.Errorf("stats = %+v, want all %d messages dropped", st, attempts)
	}
}

func TestBurst(t *testing.T) {
	const n = 10_000
	for name, mk := range map[string]func(testing.TB) specs{"tcp": tcpSpecs, "inproc": inprocSpecs} {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			srv := listen(t, s, ServerConfig{})
			h := dial(t, s)
			waitClosed(t, h.Subscribed(), "subscription")
			sendErr := make(chan error, 1)
			go func() {
				for i := range n {
					if err := h.Send([]byte(strconv.Itoa(i))); err != nil {
						sendErr <- err
						return
					}
				}
				sendErr <- nil
			}()
			for i := range n {
				if got := recv(t, srv); string(got) != strconv.Itoa(i) {
					t.Fatalf("message %d is %q", i, got)
				}
			}
			if err := <-sendErr; err != nil {
				t.Fatal(err)
			}
			h.Close() // the counters are final after Close
			if st := h.Stats(); st.Sent != n || st.Dropped != 0 {
				t.Errorf("handler stats = %+v, want %d sent, 0 dropped", st, n)
			}
			if st := srv.Stats(); st.Received != n {
				t.Errorf("server stats = %+v, want %d received", st, n)
			}
		})
	}
}

func TestDropsWhilePeerGone(t *testing.T) {
	s := inprocSpecs(t)
	srv, err := ListenServer(ServerConfig{SendSpec: s.send, RecvSpec: s.recv, Context: s.ctx})
	if err != nil {
		t.Fatal(err)
	}
	h := dial(t, s)
	waitClosed(t, h.Subscribed(), "subscription")
	srv.Close()
	// ZeroMQ reports the peer's departure asynchronously and offers no
	// signal to wait on, so keep sending until the transport notices.
	deadline := time.Now().Add(guard)
	for h.Stats().Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("replies to a departed peer are not counted as dropped: %+v", h.Stats())
		}
		if err := h.Send([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConstructorErrors(t *testing.T) {
	s := tcpSpecs(t)
	listen(t, s, ServerConfig{})
	if _, err := ListenServer(ServerConfig{SendSpec: s.send, RecvSpec: freeTCP(t)}); err == nil {
		t.Error("ListenServer on a taken address succeeded")
	}
	if _, err := DialHandler(HandlerConfig{SendSpec: "bogus://x", RecvSpec: "tcp://127.0.0.1:1"}); err == nil {
		t.Error("DialHandler with a bad endpoint succeeded")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 10 {
		s := tcpSpecs(t)
		srv, err := ListenServer(ServerConfig{SendSpec: s.send, RecvSpec: s.recv})
		if err != nil {
			t.Fatal(err)
		}
		h, err := DialHandler(HandlerConfig{SendSpec: s.send, RecvSpec: s.recv})
		if err != nil {
			t.Fatal(err)
		}
		srv.Send([]byte("x"))
		recv(t, h)
		h.Close()
		srv.Close()
	}
	// Close waits for the goroutines, which only have to return now.
	deadline := time.Now().Add(guard)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before, %d after 10 transports were closed", before, runtime.NumGoroutine())
		}
		runtime.Gosched()
	}
}

func benchmarkRoundTrip(b *testing.B, s specs) {
	srv := listen(b, s, ServerConfig{})
	h := dial(b, s)
	waitClosed(b, h.Subscribed(), "subscription")
	req := make([]byte, 100)
	b.ReportAllocs()
	for b.Loop() {
		if err := srv.Send(req); err != nil {
			b.Fatal(err)
		}
		msg := <-h.Messages()
		if err := h.Send(msg); err != nil {
			b.Fatal(err)
		}
		<-srv.Messages()
	}
}

func BenchmarkRoundTripTCP(b *testing.B)    { benchmarkRoundTrip(b, tcpSpecs(b)) }
func BenchmarkRoundTripInproc(b *testing.B) { benchmarkRoundTrip(b, inprocSpecs(b)) }
