package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// fakeRouter plays the built-in front end's part in a drain: it passes
// callers' lines to the board their route leads to, holding them while
// the route is held, and counts what it passed to each board. Boards are
// named by their handler's send_ident, as the front end names them.
type fakeRouter struct {
	mu      sync.Mutex
	routes  map[string]string // pattern -> send_ident
	boards  map[string]*board // send_ident -> board
	sent    map[string]uint64
	held    map[string]chan struct{} // pattern -> closed at the release
	moving  chan struct{}            // closed at the first Hold or Reroute: the drain has begun
	began   sync.Once
	waiting chan struct{} // gets a value when a line waits in a hold
}

func newFakeRouter(routes map[string]string, boards map[string]*board) *fakeRouter {
	return &fakeRouter{routes: routes, boards: boards, sent: map[string]uint64{},
		held: map[string]chan struct{}{}, moving: make(chan struct{}), waiting: make(chan struct{}, 1)}
}

// say passes a caller's line on route, waiting while the route is held;
// it reports whether it waited.
func (r *fakeRouter) say(route, connID, text string) (waited bool) {
	for {
		r.mu.Lock()
		held := r.held[route]
		if held == nil {
			ident := r.routes[route]
			r.sent[ident]++
			body, _ := json.Marshal(map[string]string{"type": "msg", "msg": text})
			r.boards[ident].ft.in <- request("JSON", connID, route, string(body))
			r.mu.Unlock()
			return waited
		}
		r.mu.Unlock()
		select {
		case r.waiting <- struct{}{}:
		default:
		}
		<-held
		waited = true
	}
}

func (r *fakeRouter) RoutesOf(sendIdent string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for p, ident := range r.routes {
		if ident == sendIdent {
			out = append(out, p)
		}
	}
	return out
}

func (r *fakeRouter) Hold(patterns ...string) (func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	held := make(chan struct{})
	for _, p := range patterns {
		r.held[p] = held
	}
	r.began.Do(func() { close(r.moving) })
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			close(held)
			for _, p := range patterns {
				delete(r.held, p)
			}
		})
	}, nil
}

func (r *fakeRouter) Sent(sendIdent string) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[sendIdent], nil
}

func (r *fakeRouter) Reroute(pattern, sendIdent string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[pattern] = sendIdent
	r.began.Do(func() { close(r.moving) })
	return nil
}

// repliesTo lists what b sent to connID so far, as "kind:text".
func repliesTo(t *testing.T, b *board, connID string) []string {
	t.Helper()
	b.ft.mu.Lock()
	sent := append([][]byte(nil), b.ft.sent...)
	b.ft.mu.Unlock()
	var out []string
	for _, raw := range sent {
		for _, r := range decodeReply(t, raw) {
			if r.connID == connID {
				out = append(out, r.kind+":"+r.text)
			}
		}
	}
	return out
}

// answered waits up to 5 s for b to send want ("kind:text") to connID,
// and reports whether it did.
func answered(t *testing.T, connID, want string, b *board) bool {
	t.Helper()
	_, ok := b.ft.sentWithin(t, 5*time.Second, connID, func(r reply) bool { return r.kind+":"+r.text == want })
	return ok
}

// TestDrainKeepsALineTypedInTheMove: kim's line A reaches line 1 while
// its worker is busy with lee, and kim types B as the sysop drains line 1
// onto line 2. A is answered on line 1 before her session moves, and B on
// line 2 after it, from a journal that has A; neither is lost.
func TestDrainKeepsALineTypedInTheMove(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := Config{Workers: 1, Session: session.Config{Journal: true, RatePerSecond: 1e6, RateBurst: 1e6}}
	cfg.SenderID = "line1"
	b1 := startBoardDeps(t, versioned("v1"), cfg, Deps{Store: db})
	cfg.SenderID = "line2"
	b2 := startBoardDeps(t, versioned("v1"), cfg, Deps{Store: db})
	fe := newFakeRouter(map[string]string{"@bbs": "line1", "@bbs.1": "line1", "@bbs.2": "line2"},
		map[string]*board{"line1": b1, "line2": b2})

	fe.say("@bbs", "11", "connect")
	b1.ft.waitFor(t, "11", kind("prompt"))
	fe.say("@bbs", "12", "connect")
	b1.ft.waitFor(t, "12", kind("prompt"))

	// Line 1's only worker is busy for a moment (sending lee a reply).
	entered, open := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gate := func(msg []byte) {
		if _, ids, _, err := m2proto.ParseReply(msg); err == nil && len(ids) == 1 && ids[0] == "12" {
			once.Do(func() { close(entered); <-open })
		}
	}
	b1.ft.gate.Store(&gate)
	fe.say("@bbs", "12", "busy")
	<-entered
	fe.say("@bbs", "11", "A") // waits in line 1's queue

	type result struct {
		moved int
		err   error
	}
	drained := make(chan result, 1)
	go func() {
		moved, err := Drain(context.Background(), fe, b1.host, b2.host)
		drained <- result{moved, err}
	}()
	<-fe.moving
	typedB := make(chan bool)
	go func() { typedB <- fe.say("@bbs", "11", "B") }() // typed in the instant of the move
	select {
	case <-fe.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the drain began, and kim's line B was not held")
	}
	close(open)
	r := <-drained
	if r.err != nil || r.moved != 2 {
		t.Fatalf("Drain = %d, %v; want both callers moved", r.moved, r.err)
	}
	<-typedB
	if !answered(t, "11", "prompt:v1 A", b1) || !answered(t, "11", "prompt:v1 B", b2) {
		t.Fatalf("kim typed A then B across the drain; line 1 answered her %q, line 2 %q; want A on line 1 and B on line 2",
			repliesTo(t, b1, "11"), repliesTo(t, b2, "11"))
	}
	// Her session on line 2 was rebuilt from a journal that has A: a
	// replay of the journal from the start.
	fe.say("@bbs", "11", "C")
	b2.ft.waitFor(t, "11", func(r reply) bool { return r.kind == "prompt" && r.text == "v1 C" })
	if got := repliesTo(t, b1, "11"); len(got) != 2 {
		t.Errorf("line 1 answered kim %q after the move, want only connect and A", got)
	}
}

// TestAwaitTaken: a host has taken a message once its dispatch loop has
// handed it on; the transport's own note that the front end went away is
// not one of the front end's messages.
func TestAwaitTaken(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.say("1", "connect")
	b.say("2", "connect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.host.AwaitTaken(ctx, 2); err != nil {
		t.Fatalf("AwaitTaken(2) after two messages: %v", err)
	}
	b.ft.in <- FrontEndGoneNote(time.Now())
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if err := b.host.AwaitTaken(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AwaitTaken(3) after two messages and the front end's going: %v, want the deadline", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.host.AwaitTaken(ctx, 3) }()
	b.say("1", "hello")
	if err := <-waited; err != nil {
		t.Fatalf("AwaitTaken(3) after a third message: %v", err)
	}
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "v1 hello" })
}

// twoLines starts line 1's and line 2's hosts over one database, with
// workers workers each, and a fake front end routing @bbs.1 and @bbs.2.
func twoLines(t *testing.T, workers int) (b1, b2 *board, fe *fakeRouter) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := Config{Workers: workers, Session: session.Config{Journal: true, RatePerSecond: 1e6, RateBurst: 1e6}}
	cfg.SenderID = "line1"
	b1 = startBoardDeps(t, versioned("v1"), cfg, Deps{Store: db})
	cfg.SenderID = "line2"
	b2 = startBoardDeps(t, versioned("v1"), cfg, Deps{Store: db})
	fe = newFakeRouter(map[string]string{"@bbs.1": "line1", "@bbs.2": "line2"},
		map[string]*board{"line1": b1, "line2": b2})
	return b1, b2, fe
}

// busyWorker keeps the worker serving connID busy (sending connID a
// reply) until the test ends.
func busyWorker(t *testing.T, b *board, fe *fakeRouter, route, connID string) {
	t.Helper()
	entered, open := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gate := func(msg []byte) {
		if _, ids, _, err := m2proto.ParseReply(msg); err == nil && len(ids) == 1 && ids[0] == connID {
			once.Do(func() { close(entered); <-open })
		}
	}
	b.ft.gate.Store(&gate)
	t.Cleanup(func() { close(open) })
	fe.say(route, connID, "busy")
	<-entered
}

// TestDrainDetachesTheCallersOfEveryWorkerThatAnswers: line 1 has two
// workers, one of them busy past statusTimeout. The callers of the worker
// that answers move to line 2; those of the busy one stay (DetachAll once
// returned at the first worker that did not answer, leaving any share of
// the line, in the owners map's random order, neither detached nor
// adopted).
func TestDrainDetachesTheCallersOfEveryWorkerThatAnswers(t *testing.T) {
	b1, b2, fe := twoLines(t, 2)
	var ids []string
	for i := 11; i <= 20; i++ {
		id := string(rune('0'+i/10)) + string(rune('0'+i%10))
		ids = append(ids, id)
		fe.say("@bbs.1", id, "connect")
		b1.ft.waitFor(t, id, kind("prompt"))
	}
	b1.host.mu.Lock()
	stuck := b1.host.owners["11"].w
	var healthy []string
	for _, id := range ids {
		if b1.host.owners[id].w != stuck {
			healthy = append(healthy, id)
		}
	}
	b1.host.mu.Unlock()
	if len(healthy) == 0 {
		t.Fatal("every caller is on one worker; the test needs both")
	}
	busyWorker(t, b1, fe, "@bbs.1", "11")

	moved, err := Drain(context.Background(), fe, b1.host, b2.host)
	b1.host.mu.Lock()
	var left []string
	for _, id := range healthy {
		if b1.host.owners[id] != nil {
			left = append(left, id)
		}
	}
	b1.host.mu.Unlock()
	if len(left) > 0 || moved < len(healthy) {
		t.Fatalf("Drain = %d, %v; callers %v of line 1's worker that answered (of %v) were not detached: they stay online on line 1 "+
			"and none of them was adopted by line 2; want every caller of that worker moved", moved, err, left, healthy)
	}
}

// TestDrainHoldIsBoundedWhenLineTwosWorkerIsBusy: with line 2's worker
// busy, the drain still ends within its limits (the intake's 5 s, and
// statusTimeout for each host's workers, side by side). AdoptAll once
// waited statusTimeout per caller, with the routes held: four callers held
// line 1 for 12 s.
func TestDrainHoldIsBoundedWhenLineTwosWorkerIsBusy(t *testing.T) {
	b1, b2, fe := twoLines(t, 1)
	for _, id := range []string{"11", "12", "13", "14"} {
		fe.say("@bbs.1", id, "connect")
		b1.ft.waitFor(t, id, kind("prompt"))
	}
	fe.say("@bbs.2", "21", "connect")
	b2.ft.waitFor(t, "21", kind("prompt"))
	busyWorker(t, b2, fe, "@bbs.2", "21")

	start := time.Now()
	moved, err := Drain(context.Background(), fe, b1.host, b2.host)
	held := time.Since(start)
	if held > drainIntakeTimeout+2*statusTimeout {
		t.Fatalf("Drain = %d, %v held line 1's routes for %v with line 2's worker busy; the docs bound it by 5 s + 3 s + 3 s",
			moved, err, held.Round(100*time.Millisecond))
	}
}
