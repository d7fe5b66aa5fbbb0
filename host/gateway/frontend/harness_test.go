package frontend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
	zmq "github.com/pebbe/zmq4"
)

// guard bounds every wait so that a broken front end fails a test instead
// of hanging it; it is never how a test synchronises.
const guard = 10 * time.Second

// rawHandler is a test handler speaking raw ZeroMQ: a PULL socket
// connected to the front end's send spec and an XPUB socket connected to
// its recv spec, each owned by one goroutine.
type rawHandler struct {
	requests chan []byte // messages the front end pushed
	replies  chan []byte // messages to publish to the front end
	stop     func()      // closes the sockets; idempotent
}

// dialRawHandler connects a rawHandler and returns once the front end can
// deliver to it (PULL handshake done) and hear from it (its SUB has
// subscribed): Mongrel2 drops a request it cannot deliver at once.
func dialRawHandler(t testing.TB, sendSpec, recvSpec string) *rawHandler {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	h := &rawHandler{requests: make(chan []byte, 4096), replies: make(chan []byte, 64)}
	quit := make(chan struct{})
	pullReady, pubReady := make(chan error, 1), make(chan error, 1)
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			close(quit)
			if err := zctx.Term(); err != nil {
				t.Errorf("zmq term: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)

	go func() { // owns the PULL socket
		pull, err := zctx.NewSocket(zmq.PULL)
		if err != nil {
			pullReady <- err
			return
		}
		defer pull.Close()
		err = pull.SetLinger(0)
		if err == nil {
			err = pull.SetRcvhwm(0)
		}
		if err == nil {
			err = waitHandshake(zctx, pull, sendSpec)
		}
		pullReady <- err
		if err != nil {
			return
		}
		for {
			msg, err := pull.RecvBytes(0)
			if err != nil { // ETERM at clean-up
				return
			}
			select {
			case h.requests <- msg:
			case <-quit:
				return
			}
		}
	}()

	go func() { // owns the XPUB socket
		pub, err := zctx.NewSocket(zmq.XPUB)
		if err != nil {
			pubReady <- err
			return
		}
		defer pub.Close()
		err = pub.SetLinger(0)
		if err == nil {
			err = pub.SetRcvtimeo(guard)
		}
		if err == nil {
			err = pub.SetSndhwm(0)
		}
		if err == nil {
			err = pub.Connect(recvSpec)
		}
		if err == nil {
			var sub []byte
			sub, err = pub.RecvBytes(0)
			if err == nil && (len(sub) == 0 || sub[0] != 1) {
				err = fmt.Errorf("want a subscribe message, got %q", sub)
			}
		}
		pubReady <- err
		if err != nil {
			return
		}
		for {
			select {
			case msg := <-h.replies:
				if _, err := pub.SendBytes(msg, 0); err != nil {
					return
				}
			case <-quit:
				return
			}
		}
	}()

	for _, ready := range []chan error{pullReady, pubReady} {
		if err := <-ready; err != nil {
			t.Fatalf("raw handler: %v", err)
		}
	}
	return h
}

// waitHandshake connects sock to addr and waits for the ZMTP handshake.
func waitHandshake(zctx *zmq.Context, sock *zmq.Socket, addr string) error {
	monAddr := fmt.Sprintf("inproc://monitor-%p", sock)
	if err := sock.Monitor(monAddr, zmq.EVENT_HANDSHAKE_SUCCEEDED); err != nil {
		return err
	}
	mon, err := zctx.NewSocket(zmq.PAIR)
	if err != nil {
		return err
	}
	defer mon.Close()
	if err := mon.SetLinger(0); err != nil {
		return err
	}
	if err := mon.SetRcvtimeo(guard); err != nil {
		return err
	}
	if err := mon.Connect(monAddr); err != nil {
		return err
	}
	if err := sock.Connect(addr); err != nil {
		return err
	}
	if _, _, _, err := mon.RecvEvent(0); err != nil {
		return fmt.Errorf("handshake with %s: %w", addr, err)
	}
	return sock.Monitor("", 0)
}

// next returns the next message the front end pushed.
func (h *rawHandler) next(t testing.TB) []byte {
	t.Helper()
	select {
	case msg := <-h.requests:
		return msg
	case <-time.After(guard):
		t.Fatal("handler got no message")
		return nil
	}
}

// reply publishes a reply to the given connection ids.
func (h *rawHandler) reply(sender string, body []byte, ids ...string) {
	msg := fmt.Appendf(nil, "%s ", sender)
	n := 0
	for i, id := range ids {
		n += len(id)
		if i > 0 {
			n++
		}
	}
	msg = strconv.AppendInt(msg, int64(n), 10)
	msg = append(msg, ':')
	for i, id := range ids {
		if i > 0 {
			msg = append(msg, ' ')
		}
		msg = append(msg, id...)
	}
	msg = append(msg, ',', ' ')
	h.replies <- append(msg, body...)
}

// connIDOf returns the conn id of a message the front end pushed.
func connIDOf(msg []byte) string {
	parts := bytes.SplitN(msg, []byte(" "), 3)
	if len(parts) < 3 {
		return ""
	}
	return string(parts[1])
}

// freeSpec returns a tcp:// endpoint on a port that was free a moment ago.
func freeSpec(t testing.TB) string {
	t.Helper()
	p, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "tcp://127.0.0.1:" + strconv.Itoa(p)
}

// withoutAbuseLimits switches off the per-address limits, the first-frame
// deadline and the malformed-frame limit, which Mongrel2 does not have.
func withoutAbuseLimits(l Limits) Limits {
	l.PerAddr = netlimit.Limits{MaxPerAddr: -1, AcceptRate: -1, AcceptBurst: -1}
	l.FirstFrameTimeout, l.MaxBadFrames = -1, -1
	return l
}

// builtIn starts the built-in front end with cfg (Addr defaults to a free
// port on 127.0.0.1) and stops it when the test ends.
func builtIn(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.FirstConnID == 0 {
		cfg.FirstConnID = 1 // the tests expect the ids from 1
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(t.Context()) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// dial connects a caller.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, guard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// write sends bytes as a caller.
func write(t testing.TB, c net.Conn, data string) {
	t.Helper()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatalf("caller write: %v", err)
	}
}

// readN reads exactly n bytes as a caller.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(guard))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("caller read %d bytes: %v (got %q)", n, err, buf)
	}
	return buf
}

// readToEOF reads everything until the front end closes the connection. A
// reset counts as a close: closing a socket with unread input resets it.
func readToEOF(t testing.TB, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(guard))
	data, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("caller read to EOF: %v (got %q)", err, data)
	}
	return data
}
