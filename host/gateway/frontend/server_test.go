package frontend

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
	"github.com/pebbe/zmq4"
)

// bbs is a built-in front end with one handler on "@bbs" and "/status".
type bbs struct {
	s *Server
	h *rawHandler
}

func startBBS(t testing.TB, limits Limits) *bbs {
	t.Helper()
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"}
	s := builtIn(t, Config{Routes: []Route{{"@bbs", h}, {"/status", h}}, Limits: limits})
	return &bbs{s: s, h: dialRawHandler(t, h.SendSpec, h.RecvSpec)}
}

func (b *bbs) addr() string { return b.s.Addr().String() }

// request waits for the next handler message and parses it.
func (b *bbs) request(t testing.TB) *m2proto.Request {
	t.Helper()
	msg := b.h.next(t)
	req, err := m2proto.ParseRequest(msg)
	if err != nil {
		t.Fatalf("handler got %q: %v", msg, err)
	}
	return req
}

// connect dials a caller and sends the classic first frame; it returns the
// caller and its conn id.
func (b *bbs) connect(t testing.TB) (net.Conn, string) {
	t.Helper()
	c := dial(t, b.addr())
	write(t, c, msgConnect)
	req := b.request(t)
	if req.IsDisconnect() || req.Path != "@bbs" {
		t.Fatalf("want the connect request, got %+v", req)
	}
	return c, req.ConnID
}

// marker sends a frame from a fresh caller and waits for it: every handler
// message before it is returned.
func (b *bbs) marker(t testing.TB) []*m2proto.Request {
	t.Helper()
	c := dial(t, b.addr())
	write(t, c, `@bbs {"marker":true}`+"\x00")
	var before []*m2proto.Request
	for {
		req := b.request(t)
		if strings.Contains(string(req.Body), "marker") {
			return before
		}
		before = append(before, req)
	}
}

func (b *bbs) waitDisconnect(t testing.TB, id string) {
	t.Helper()
	req := b.request(t)
	if !req.IsDisconnect() || req.ConnID != id {
		t.Fatalf("want the disconnect notice for %s, got %s %s %q", id, req.ConnID, req.Path, req.Body)
	}
}

func TestExchange(t *testing.T) {
	b := startBBS(t, Limits{})
	c, id := b.connect(t)
	frame := classicFrame(`{"type":"screen","msg":"hi"}`)
	b.h.reply("test", []byte(frame), id)
	if got := readN(t, c, len(frame)); string(got) != frame {
		t.Errorf("caller got %q, want %q", got, frame)
	}
	c.Close()
	b.waitDisconnect(t, id)
	st := b.s.Stats()
	want := Stats{ConnsOpen: 0, ConnsTotal: 1, FramesIn: 1, RequestsOut: 1, RepliesIn: 1, WritesOut: 1,
		DisconnectsOut: 1, Closed: map[CloseReason]uint64{CloseHangUp: 1}}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("stats = %+v\nwant    %+v", st, want)
	}
}

func TestDisconnectGoesToLastHandler(t *testing.T) {
	h1 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "h1"}
	h2 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "h2", Protocol: ProtocolTNetstring}
	s := builtIn(t, Config{Routes: []Route{{"@bbs", h1}, {"@chat", h2}, {"<msg", h1}}})
	r1 := dialRawHandler(t, h1.SendSpec, h1.RecvSpec)
	r2 := dialRawHandler(t, h2.SendSpec, h2.RecvSpec)

	c := dial(t, s.Addr().String())
	write(t, c, "@bbs {}\x00<msg>hi</msg>\x00@chat {}\x00")
	for _, want := range []string{"h1 1 @bbs", "h1 1 <msg", "h2 1 @chat"} {
		r := r1
		if strings.HasPrefix(want, "h2") {
			r = r2
		}
		if msg := r.next(t); !bytes.HasPrefix(msg, []byte(want+" ")) {
			t.Fatalf("got %q, want a message starting %q", msg, want)
		}
	}
	c.Close()
	if got, want := string(r2.next(t)), `h2 1 @* 16:6:METHOD,4:JSON,}21:{"type":"disconnect"},`; got != want {
		t.Errorf("h2 got %q, want %q", got, want)
	}
	// h1 heard nothing more: the next thing it gets is a later caller.
	c2 := dial(t, s.Addr().String())
	write(t, c2, "@bbs {}\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("h1 2 @bbs ")) {
		t.Errorf("h1 got %q, want the next caller's request", msg)
	}
}

func TestXMLMessage(t *testing.T) {
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "x"}
	s := builtIn(t, Config{Routes: []Route{{"<msg", h}}})
	r := dialRawHandler(t, h.SendSpec, h.RecvSpec)
	c := dial(t, s.Addr().String())
	write(t, c, "<msg to=\"all\">hi</msg>\x00")
	want := `x 1 <msg 123:{"PATH":"<msg","x-forwarded-for":"127.0.0.1","METHOD":"XML","PATTERN":"<msg","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},22:<msg to="all">hi</msg>,`
	if got := string(r.next(t)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	b := startBBS(t, Limits{})
	slow, slowID := b.connect(t)
	fast, fastID := b.connect(t)
	_ = slow // never reads

	big := bytes.Repeat([]byte("z"), 64<<10)
	for range 200 {
		b.h.reply("test", big, slowID)
	}
	b.h.reply("test", []byte("for the fast one\x00"), fastID)
	start := time.Now()
	if got := readN(t, fast, len("for the fast one\x00")); string(got) != "for the fast one\x00" {
		t.Fatalf("fast caller got %q", got)
	}
	t.Logf("the fast caller's reply took %v behind 12.8 MB for a caller who does not read", time.Since(start))

	// The slow caller was closed and its handler told, once; the replies
	// after that were answered with disconnect notices, as Mongrel2 does.
	notices := 0
	for _, req := range b.marker(t) {
		if !req.IsDisconnect() || req.ConnID != slowID {
			t.Errorf("unexpected message %s %s %q", req.ConnID, req.Path, req.Body)
		}
		notices++
	}
	st := b.s.Stats()
	if st.Closed[CloseSlowReader] != 1 {
		t.Errorf("closed for a full queue: %d, want 1 (stats %+v)", st.Closed[CloseSlowReader], st)
	}
	if uint64(notices) != st.UnknownTargets+1 {
		t.Errorf("%d disconnect notices, want 1 + %d for replies to the closed caller", notices, st.UnknownTargets)
	}
}

func TestWriteTimeout(t *testing.T) {
	b := startBBS(t, Limits{WriteTimeout: 100 * time.Millisecond})
	_, id := b.connect(t) // never reads
	// More than the kernel buffers hold, fewer than MaxQueuedWrites.
	for range 12 {
		b.h.reply("test", bytes.Repeat([]byte("z"), 1<<20), id)
	}
	b.waitDisconnect(t, id)
	if n := b.s.Stats().Closed[CloseWriteFailed]; n != 1 {
		t.Errorf("closed for a failed write: %d, want 1", n)
	}
}

func TestRepliesToUnknownCallers(t *testing.T) {
	b := startBBS(t, Limits{})
	b.h.reply("test", []byte("x"), "424242", "0042")
	for _, want := range []string{"424242", "42"} {
		b.waitDisconnect(t, want)
	}
	if n := b.s.Stats().UnknownTargets; n != 2 {
		t.Errorf("UnknownTargets = %d, want 2", n)
	}
}

func TestBadReplyIsDropped(t *testing.T) {
	b := startBBS(t, Limits{})
	c, id := b.connect(t)
	b.h.replies <- []byte("test garbage")
	b.h.replies <- []byte("test 3:1 X, 7:extended,")
	b.h.reply("test", []byte("after\x00"), id)
	if got := readN(t, c, 6); string(got) != "after\x00" {
		t.Errorf("caller got %q", got)
	}
	if n := b.s.Stats().BadReplies; n != 2 {
		t.Errorf("BadReplies = %d, want 2", n)
	}
}

func TestEmptyReplyClosesAfterQueuedReplies(t *testing.T) {
	b := startBBS(t, Limits{})
	c, id := b.connect(t)
	b.h.reply("test", []byte("one\x00"), id)
	b.h.reply("test", []byte("two\x00"), id)
	b.h.reply("test", nil, id)
	if got := readToEOF(t, c); string(got) != "one\x00two\x00" {
		t.Errorf("caller got %q, want both replies then the close", got)
	}
	if before := b.marker(t); len(before) != 0 {
		t.Errorf("handler got %d messages, want no notice for a close it asked for", len(before))
	}
	if n := b.s.Stats().Closed[CloseByHandler]; n != 1 {
		t.Errorf("closed by handler: %d, want 1", n)
	}
}

func TestIdleCallersAreClosed(t *testing.T) {
	b := startBBS(t, Limits{IdleTimeout: 200 * time.Millisecond})
	silent := dial(t, b.addr())
	partial := dial(t, b.addr())
	write(t, partial, `@bbs {"a":`)
	session, id := b.connect(t)
	for _, c := range []net.Conn{silent, partial, session} {
		if got := readToEOF(t, c); len(got) != 0 {
			t.Errorf("idle caller got %q before the close", got)
		}
	}
	b.waitDisconnect(t, id)
	if n := b.s.Stats().Closed[CloseIdle]; n != 3 {
		t.Errorf("closed as idle: %d, want 3", n)
	}
}

func TestWritesKeepACallerAlive(t *testing.T) {
	// The idle timeout is 20 times the writes' pace, so that a loaded
	// machine's pause between two writes is not taken for idleness.
	b := startBBS(t, Limits{IdleTimeout: time.Second})
	c, id := b.connect(t)
	r := bufio.NewReader(c)
	deadline := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		b.h.reply("test", fmt.Appendf(nil, "tick %d\x00", i), id)
		c.SetReadDeadline(time.Now().Add(guard))
		if _, err := r.ReadString(0); err != nil {
			t.Fatalf("caller closed after %d ticks while being written to: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond) // the pace of the writes under test
	}
	b.waitDisconnect(t, id) // and once the writes stop, it is idle
}

func TestMaxConns(t *testing.T) {
	b := startBBS(t, Limits{MaxConns: 2})
	first, id := b.connect(t)
	b.connect(t)
	extra := dial(t, b.addr())
	if got := readToEOF(t, extra); len(got) != 0 {
		t.Errorf("caller past MaxConns got %q", got)
	}
	first.Close()
	b.waitDisconnect(t, id)
	b.connect(t) // room again
	st := b.s.Stats()
	if st.Closed[CloseTooManyConns] != 1 || st.ConnsOpen != 2 {
		t.Errorf("stats %+v: want 1 refused, 2 open", st)
	}
}

func TestCloseIsLogged(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"}
	s := builtIn(t, Config{Routes: []Route{{"@bbs", h}}, Log: log})
	c := dial(t, s.Addr().String())
	write(t, c, "@nope {}\x00")
	readToEOF(t, c)
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "caller closed" && rec["reason"] == "unknown route" && rec["conn_id"] == float64(1) {
			return
		}
	}
	t.Errorf("no log line with conn_id 1 and reason \"unknown route\" in:\n%s", buf.String())
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestServeStopsPromptlyAndLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"}
	s, err := Listen(Config{Addr: "127.0.0.1:0", Routes: []Route{{"@bbs", h}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	r := dialRawHandler(t, h.SendSpec, h.RecvSpec)
	b := &bbs{s: s, h: r}
	var callers []net.Conn
	for range 5 {
		c, _ := b.connect(t)
		callers = append(callers, c)
	}
	_, slowID := b.connect(t)
	for range 40 {
		r.reply("test", bytes.Repeat([]byte("z"), 1<<20), slowID)
	}
	mid := dial(t, b.addr())
	write(t, mid, `@bbs {"half`)
	callers = append(callers, mid)

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Serve did not return after cancel")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Serve took %v to stop", d)
	}
	for _, c := range callers {
		if got := readToEOF(t, c); len(got) != 0 {
			t.Errorf("caller got %q at shutdown", got)
		}
	}
	if err := s.Serve(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after stop: %v, want ErrClosed", err)
	}
	r.stop()
	deadline := time.Now().Add(guard)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond) // polling: goroutines exit with no signal to wait on
	}
	// Everything bound is free again.
	if s2, err := Listen(Config{Addr: s.Addr().String(), Routes: []Route{{"@bbs", h}}}); err != nil {
		t.Errorf("rebinding after stop: %v", err)
	} else {
		s2.Close()
	}
}

func TestCloseWithoutServe(t *testing.T) {
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"}
	s, err := Listen(Config{Addr: "127.0.0.1:0", Routes: []Route{{"@bbs", h}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Serve(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close: %v, want ErrClosed", err)
	}
	s2, err := Listen(Config{Addr: s.Addr().String(), Routes: []Route{{"@bbs", h}}})
	if err != nil {
		t.Fatalf("rebinding after Close: %v", err)
	}
	s2.Close()
}

func TestListenErrors(t *testing.T) {
	ok := func() *Handler { return &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"} }
	same := freeSpec(t)
	shared := ok()
	for name, cfg := range map[string]Config{
		"no routes":        {},
		"empty pattern":    {Routes: []Route{{"", ok()}}},
		"regexp pattern":   {Routes: []Route{{"/x/(.*)", ok()}}},
		"no handler":       {Routes: []Route{{"@bbs", nil}}},
		"no send ident":    {Routes: []Route{{"@bbs", &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t)}}}},
		"spaced ident":     {Routes: []Route{{"@bbs", &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "a b"}}}},
		"bad protocol":     {Routes: []Route{{"@bbs", &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "x", Protocol: "xml"}}}},
		"same specs":       {Routes: []Route{{"@bbs", &Handler{SendSpec: same, RecvSpec: same, SendIdent: "x"}}}},
		"spec shared":      {Routes: []Route{{"@bbs", shared}, {"@chat", &Handler{SendSpec: shared.SendSpec, RecvSpec: freeSpec(t), SendIdent: "y"}}}},
		"missing recvspec": {Routes: []Route{{"@bbs", &Handler{SendSpec: freeSpec(t), SendIdent: "x"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Addr = "127.0.0.1:0"
			if _, err := Listen(cfg); !errors.Is(err, ErrBadConfig) {
				t.Errorf("err = %v, want ErrBadConfig", err)
			}
		})
	}

	t.Run("port taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		h := ok()
		if _, err := Listen(Config{Addr: l.Addr().String(), Routes: []Route{{"@bbs", h}}}); err == nil {
			t.Fatal("Listen on a taken port succeeded")
		}
		// The handler's sockets were released.
		s, err := Listen(Config{Addr: "127.0.0.1:0", Routes: []Route{{"@bbs", h}}})
		if err != nil {
			t.Fatalf("handler specs still bound after a failed Listen: %v", err)
		}
		s.Close()
	})
}

// TestThousandCallers runs 1,000 concurrent callers, each through a short
// exchange with an echo handler: connect, one prompt, one answer, bye.
func TestThousandCallers(t *testing.T) {
	const callers = 1000
	b := startBBS(t, withoutAbuseLimits(Limits{})) // a thousand from 127.0.0.1
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	disconnects := make(chan string, callers)
	go func() { // the echo handler
		for {
			var msg []byte
			select {
			case msg = <-b.h.requests:
			case <-ctx.Done():
				return
			}
			req, err := m2proto.ParseRequest(msg)
			if err != nil {
				t.Errorf("handler got %q: %v", msg, err)
				return
			}
			if req.IsDisconnect() {
				disconnects <- req.ConnID
				continue
			}
			echo := fmt.Appendf(nil, `{"type":"prompt","msg":%q,"pchar":"> "}`, req.Body)
			b.h.reply("test", m2proto.AppendClientFrame(nil, echo, false), req.ConnID)
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			errs <- func() error {
				c, err := net.DialTimeout("tcp", b.addr(), guard)
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * guard))
				r := bufio.NewReader(c)
				for _, line := range []string{"connect", fmt.Sprintf("caller %d", i)} {
					if _, err := fmt.Fprintf(c, `@bbs {"type":"msg","msg":%q}`+"\x00", line); err != nil {
						return err
					}
					frame, err := r.ReadString(0)
					if err != nil {
						return fmt.Errorf("caller %d: %w", i, err)
					}
					if want := classicFrame(fmt.Sprintf(`{"type":"prompt","msg":%q,"pchar":"> "}`, fmt.Sprintf(`{"type":"msg","msg":%q}`, line))); frame != want {
						return fmt.Errorf("caller %d got %q, want %q", i, frame, want)
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	seen := map[string]bool{}
	for len(seen) < callers-failed {
		select {
		case id := <-disconnects:
			seen[id] = true
		case <-time.After(guard):
			t.Fatalf("%d disconnect notices of %d", len(seen), callers)
		}
	}
	st := b.s.Stats()
	if st.ConnsTotal != callers || st.RequestsOut != 2*callers || st.WritesOut != 2*callers || st.Closed[CloseHangUp] != callers {
		t.Errorf("stats %+v", st)
	}
}

// TestInprocWithSharedContext runs the front end and a handler made with
// zmqtransport in one ZeroMQ context over inproc sockets, as `m2bbs run`
// does, and checks that the context can be terminated once Serve returns.
func TestInprocWithSharedContext(t *testing.T) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{SendSpec: "inproc://frontend-test-send", RecvSpec: "inproc://frontend-test-recv", SendIdent: "m2bbs"}
	s, err := Listen(Config{Addr: "127.0.0.1:0", Routes: []Route{{"@bbs", h}}, Context: zctx})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	handler, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{SendSpec: h.SendSpec, RecvSpec: h.RecvSpec, Context: zctx})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-handler.Subscribed():
	case <-time.After(guard):
		t.Fatal("handler never subscribed")
	}

	c := dial(t, s.Addr().String())
	write(t, c, msgConnect)
	var req *m2proto.Request
	select {
	case msg := <-handler.Messages():
		if req, err = m2proto.ParseRequest(msg); err != nil {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatal("no request")
	}
	frame := classicFrame(`{"type":"exit","msg":"bye"}`)
	if err := handler.Send(m2proto.AppendReply(nil, "m2bbs", []string{req.ConnID}, []byte(frame))); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, len(frame)); string(got) != frame {
		t.Errorf("caller got %q", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	handler.Close()
	term := make(chan error, 1)
	go func() { term <- zctx.Term() }()
	select {
	case err := <-term:
		if err != nil {
			t.Errorf("Term: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Term hangs: the front end left a socket open")
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	bb := startBBS(b, Limits{})
	c, id := bb.connect(b)
	r := bufio.NewReader(c)
	frame := []byte(`@bbs {"type":"msg","msg":"hello"}` + "\x00")
	reply := []byte(classicFrame(`{"type":"prompt","msg":"hello","pchar":"> "}`))
	for b.Loop() {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		bb.h.next(b)
		bb.h.reply("test", reply, id)
		if _, err := r.ReadString(0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRerouteMovesALineToAnotherHandler(t *testing.T) {
	h1 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line1"}
	h2 := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "line2"}
	s := builtIn(t, Config{Routes: []Route{{"@bbs.1", h1}, {"@bbs.2", h2}}})
	r1 := dialRawHandler(t, h1.SendSpec, h1.RecvSpec)
	r2 := dialRawHandler(t, h2.SendSpec, h2.RecvSpec)

	c := dial(t, s.Addr().String())
	write(t, c, "@bbs.1 {}\x00")
	if msg := r1.next(t); !bytes.HasPrefix(msg, []byte("line1 1 @bbs.1 ")) {
		t.Fatalf("line 1 got %q", msg)
	}
	for _, bad := range []struct{ pattern, ident string }{{"@bbs.3", "line2"}, {"@bbs", "line2"}} {
		if err := s.Reroute(bad.pattern, bad.ident); !errors.Is(err, ErrNoSuchRoute) {
			t.Errorf("Reroute(%q, %q) = %v, want ErrNoSuchRoute", bad.pattern, bad.ident, err)
		}
	}
	if err := s.Reroute("@bbs.1", "line3"); !errors.Is(err, ErrNoSuchHandler) {
		t.Errorf("Reroute to a handler that does not exist: %v, want ErrNoSuchHandler", err)
	}
	if got := strings.Join(s.RoutesOf("line1"), " "); got != "@bbs.1" {
		t.Errorf("line 1's routes before the move: %q", got)
	}
	if err := s.Reroute("@bbs.1", "line2"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.RoutesOf("line2"), " "); got != "@bbs.1 @bbs.2" {
		t.Errorf("line 2's routes after the move: %q, want both", got)
	}
	if got := s.RoutesOf("line1"); len(got) != 0 {
		t.Errorf("line 1's routes after the move: %q, want none", got)
	}
	// The same caller, still connected, now reaches line 2's handler, which
	// can answer it.
	write(t, c, "@bbs.1 {}\x00")
	if msg := r2.next(t); !bytes.HasPrefix(msg, []byte("line2 1 @bbs.1 ")) {
		t.Fatalf("line 2 got %q, want the caller's next request", msg)
	}
	r2.reply("line2", []byte("moved\x00"), "1")
	if got := string(readN(t, c, len("moved\x00"))); got != "moved\x00" {
		t.Errorf("caller got %q", got)
	}
}
