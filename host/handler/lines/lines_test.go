package lines

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
)

// told is one call of a fakeBoard's Tell or HangUp.
type told struct {
	op         string // "tell" or "hang up"
	to         []Caller
	kind, text string
}

// fakeBoard is a host with a fixed set of callers that records what it is
// asked to tell them.
type fakeBoard struct {
	mu     sync.Mutex
	online []Caller
	calls  []told
	events chan told // every call, as it happens
}

func newFakeBoard(online ...Caller) *fakeBoard {
	return &fakeBoard{online: online, events: make(chan told, 100)}
}

func (b *fakeBoard) Online() []Caller {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.online)
}

func (b *fakeBoard) setOnline(online ...Caller) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.online = online
}

func (b *fakeBoard) record(c told) error {
	b.mu.Lock()
	b.calls = append(b.calls, c)
	b.mu.Unlock()
	b.events <- c
	return nil
}

func (b *fakeBoard) Tell(to []Caller, m message.Message) error {
	return b.record(told{op: "tell", to: to, kind: m.Type, text: m.Msg})
}

func (b *fakeBoard) HangUp(to []Caller) error { return b.record(told{op: "hang up", to: to}) }

// told returns the calls so far, without the empty groups (a line down
// with no browsers on it tells the empty browser group too).
func (b *fakeBoard) told() []told {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []told
	for _, c := range b.calls {
		if len(c.to) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// openDirectory is a fresh shared directory of lines.
func openDirectory(t *testing.T) *store.SQLite {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ann and bob are the callers of line 1 in these tests: ann calls in with
// the classic client, bob's browser has not logged in yet.
var (
	ann = Caller{ConnID: "10", User: "ann"}
	bob = Caller{ConnID: "11", Browser: true}
)

// lineOf is line n in db with board, heartbeats an hour apart unless run
// by hand, and as journaled as journal says.
func lineOf(n int, db store.Lines, board Board, journal bool) *Line {
	return New(Config{Line: n, Capacity: 2, Heartbeat: time.Hour, StaleAfter: time.Hour, Journal: journal}, db, board, nil)
}

// TestLineDownIsToldOnce: three lines; line 1 stops cleanly (as Run does)
// while the others watch at the same time: exactly one of them tells line
// 1's callers DownText and hangs up on them, each kind of caller in its
// own group.
func TestLineDownIsToldOnce(t *testing.T) {
	ctx := t.Context()
	db := openDirectory(t)
	b1, b2, b3 := newFakeBoard(ann, bob), newFakeBoard(), newFakeBoard()
	l1, l2, l3 := lineOf(1, db, b1, false), lineOf(2, db, b2, false), lineOf(3, db, b3, false)
	for _, l := range []*Line{l1, l2, l3} {
		l.beat(ctx)
	}
	if err := db.LeaveLine(ctx, 1, l1.instance); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { l2.watch(ctx) })
	wg.Go(func() { l3.watch(ctx) })
	wg.Wait()

	got := append(b2.told(), b3.told()...)
	want := []told{
		{op: "tell", to: []Caller{ann}, kind: message.TypeExit, text: DownText(1)},
		{op: "hang up", to: []Caller{ann}},
		{op: "tell", to: []Caller{bob}, kind: message.TypeExit, text: DownText(1)},
		{op: "hang up", to: []Caller{bob}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines 2 and 3 did\n%+v\nwant (once)\n%+v", got, want)
	}
	if len(b1.told()) != 0 {
		t.Errorf("line 1's own board was used: %+v", b1.told())
	}
}

// TestLineDownWithJournalsHoldsTheCall: with journaled sessions the
// callers of a line that went down are told HoldText and stay connected.
func TestLineDownWithJournalsHoldsTheCall(t *testing.T) {
	ctx := t.Context()
	db := openDirectory(t)
	b1, b2 := newFakeBoard(ann, bob), newFakeBoard()
	l1, l2 := lineOf(1, db, b1, true), lineOf(2, db, b2, true)
	l1.beat(ctx)
	l2.beat(ctx)
	if err := db.LeaveLine(ctx, 1, l1.instance); err != nil {
		t.Fatal(err)
	}
	l2.watch(ctx)
	want := []told{
		{op: "tell", to: []Caller{ann}, kind: message.TypeScreen, text: HoldText(1)},
		{op: "tell", to: []Caller{bob}, kind: message.TypeScreen, text: HoldText(1)},
	}
	if got := b2.told(); !reflect.DeepEqual(got, want) {
		t.Errorf("line 2 did\n%+v\nwant\n%+v", got, want)
	}
}

// TestRestartedLineHangsUpOnItsOrphans: a host restarted on its line
// hangs up on the callers its previous process left there; with journals
// it keeps them for replay and tells them nothing.
func TestRestartedLineHangsUpOnItsOrphans(t *testing.T) {
	for _, journal := range []bool{false, true} {
		ctx := t.Context()
		db := openDirectory(t)
		before := lineOf(1, db, newFakeBoard(ann), journal)
		before.beat(ctx)
		after := newFakeBoard()
		lineOf(1, db, after, journal).beat(ctx)
		var want []told
		if !journal {
			want = []told{
				{op: "tell", to: []Caller{ann}, kind: message.TypeExit, text: DownText(1)},
				{op: "hang up", to: []Caller{ann}},
			}
		}
		if got := after.told(); !reflect.DeepEqual(got, want) {
			t.Errorf("journal %v: the restarted line did %+v, want %+v", journal, got, want)
		}
	}
}

// TestRemoteCallers: a line sees the callers of the other lines that are
// up (not its own, not those of a line that is down), knows which are
// browsers, and a nil Line (a host on no line) sees none.
func TestRemoteCallers(t *testing.T) {
	ctx := t.Context()
	db := openDirectory(t)
	b1, b2 := newFakeBoard(ann, bob), newFakeBoard(Caller{ConnID: "12", User: "cy"})
	l1, l2 := lineOf(1, db, b1, false), lineOf(2, db, b2, false)
	l1.beat(ctx)
	l2.beat(ctx)

	got := l2.Remote(ctx)
	slices.SortFunc(got, func(a, b Caller) int { return strings.Compare(a.ConnID, b.ConnID) })
	if want := []Caller{ann, bob}; !reflect.DeepEqual(got, want) {
		t.Errorf("line 2 sees %+v, want %+v", got, want)
	}
	if !l2.IsRemote("10") || l2.IsRemote("12") || l2.IsRemote("99") {
		t.Errorf("IsRemote: 10 %v (want true), 12 %v, 99 %v (want false)", l2.IsRemote("10"), l2.IsRemote("12"), l2.IsRemote("99"))
	}
	rest, browsers := l2.SplitBrowsers([]string{"10", "11", "12"})
	if !reflect.DeepEqual(rest, []string{"10", "12"}) || !reflect.DeepEqual(browsers, []string{"11"}) {
		t.Errorf("SplitBrowsers = %v, %v; want [10 12], [11]", rest, browsers)
	}

	if err := db.LeaveLine(ctx, 1, l1.instance); err != nil {
		t.Fatal(err)
	}
	if got := l2.Remote(ctx); len(got) != 0 || l2.IsRemote("10") {
		t.Errorf("line 1 is down, yet line 2 sees %+v", got)
	}

	var none *Line
	none.Nudge()
	if none.Remote(ctx) != nil || none.IsRemote("10") {
		t.Error("a host on no line sees remote callers")
	}
	if rest, browsers := none.SplitBrowsers([]string{"10"}); !reflect.DeepEqual(rest, []string{"10"}) || browsers != nil {
		t.Errorf("a host on no line split %v, %v", rest, browsers)
	}
}

// TestRunWritesCallersAndLeaves runs two lines: a caller logging in on
// line 1 (a nudge) shows on line 2, and line 1 stopping is told to its
// callers by line 2 at its next heartbeat.
func TestRunWritesCallersAndLeaves(t *testing.T) {
	db := openDirectory(t)
	b1, b2 := newFakeBoard(), newFakeBoard()
	cfg := Config{Capacity: 2, Heartbeat: 10 * time.Millisecond, StaleAfter: time.Hour}
	cfg.Line = 1
	l1 := New(cfg, db, b1, nil)
	cfg.Line = 2
	l2 := New(cfg, db, b2, nil)
	ctx1, stop1 := context.WithCancel(t.Context())
	ctx2, stop2 := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { l1.Run(ctx1) })
	wg.Go(func() { l2.Run(ctx2) })
	t.Cleanup(func() { stop1(); stop2(); wg.Wait() })

	b1.setOnline(ann)
	l1.Nudge()
	deadline := time.Now().Add(10 * time.Second)
	for !l2.IsRemote(ann.ConnID) {
		if time.Now().After(deadline) {
			t.Fatal("line 2 never saw ann on line 1")
		}
		time.Sleep(5 * time.Millisecond) // l2 looks at every heartbeat; there is no signal to wait on
	}

	stop1()
	select {
	case c := <-b2.events:
		if want := (told{op: "tell", to: []Caller{ann}, kind: message.TypeExit, text: DownText(1)}); !reflect.DeepEqual(c, want) {
			t.Errorf("line 2 did %+v, want %+v", c, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("line 2 never told line 1's callers")
	}
}

// TestLineDownAdopted: a host that can adopt takes the line that went
// down with its callers, who are told where their call goes on; one that
// fails to adopt falls back to holding the call.
func TestLineDownAdopted(t *testing.T) {
	for _, ok := range []bool{true, false} {
		ctx := t.Context()
		db := openDirectory(t)
		b1, b2 := newFakeBoard(ann, bob), newFakeBoard()
		l1 := lineOf(1, db, b1, true)
		var asked [][]Caller
		l2 := New(Config{Line: 2, Capacity: 2, Heartbeat: time.Hour, StaleAfter: time.Hour, Journal: true,
			Adopt: func(line int, callers []Caller) bool {
				if line != 1 {
					t.Errorf("asked to adopt line %d", line)
				}
				asked = append(asked, callers)
				return ok
			}}, db, b2, nil)
		l1.beat(ctx)
		l2.beat(ctx)
		if err := db.LeaveLine(ctx, 1, l1.instance); err != nil {
			t.Fatal(err)
		}
		l2.watch(ctx)
		l2.watch(ctx) // handled once
		text := AdoptText(1, 2)
		if !ok {
			text = HoldText(1)
		}
		want := []told{
			{op: "tell", to: []Caller{ann}, kind: message.TypeScreen, text: text},
			{op: "tell", to: []Caller{bob}, kind: message.TypeScreen, text: text},
		}
		if got := b2.told(); !reflect.DeepEqual(got, want) {
			t.Errorf("adopting %v: line 2 did\n%+v\nwant\n%+v", ok, got, want)
		}
		if len(asked) != 1 || len(asked[0]) != 2 {
			t.Errorf("adopting %v: asked %+v, want once with ann and bob", ok, asked)
		}
	}
}
