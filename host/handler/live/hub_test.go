package live

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// inbox collects what a hub delivers.
type inbox struct {
	mu  sync.Mutex
	got map[string][]Event
	ch  chan struct{}
}

func newInbox() *inbox { return &inbox{got: map[string][]Event{}, ch: make(chan struct{}, 1000)} }

func (b *inbox) deliver(connID string, ev Event) {
	b.mu.Lock()
	b.got[connID] = append(b.got[connID], ev)
	b.mu.Unlock()
	b.ch <- struct{}{}
}

// unstamped is ev without the stamp the hub gave it, to compare with
// what was said.
func unstamped(ev Event) Event {
	ev.Stamp = 0
	return ev
}

func (b *inbox) of(connID string) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.got[connID]...)
}

func TestPublishReachesListenersButThePublisher(t *testing.T) {
	b := newInbox()
	h := New(b.deliver, nil, nil)
	for _, id := range []string{"1", "2", "3"} {
		if err := h.Subscribe(id, "chat", false); err != nil {
			t.Fatal(err)
		}
	}
	n, err := h.Publish("1", "kim", "chat", "hello")
	if err != nil || n != 2 {
		t.Fatalf("Publish = %d, %v; want 2", n, err)
	}
	for id, want := range map[string]int{"1": 0, "2": 1, "3": 1} {
		if got := b.of(id); len(got) != want || want == 1 && unstamped(got[0]) != (Event{Channel: "chat", From: "kim", Text: "hello"}) {
			t.Errorf("conn %s got %v", id, got)
		}
	}
	h.Unsubscribe("2", "chat")
	h.Forget("3")
	if n, _ := h.Publish("1", "kim", "chat", "again"); n != 0 {
		t.Errorf("after unsubscribe and forget: reached %d", n)
	}
}

func TestHubLimits(t *testing.T) {
	h := New(func(string, Event) {}, nil, nil)
	for i := range MaxChannelsPerCaller {
		if err := h.Subscribe("1", fmt.Sprint("c", i), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Subscribe("1", "one more", false); !errors.Is(err, ErrTooManyChannels) {
		t.Errorf("channel %d: %v", MaxChannelsPerCaller+1, err)
	}
	if err := h.Subscribe("1", "one more", true); err != nil {
		t.Errorf("forced (a replay): %v", err)
	}
	for i := range MaxListenersPerChannel {
		if err := h.Subscribe(fmt.Sprint(100+i), "busy", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Subscribe("99", "busy", false); !errors.Is(err, ErrChannelFull) {
		t.Errorf("listener %d: %v", MaxListenersPerChannel+1, err)
	}
	// Publishing: a burst, then the rate.
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	for i := range PublishBurst {
		if _, err := h.Publish("5", "lee", "busy", "x"); err != nil {
			t.Fatalf("publish %d of the burst: %v", i+1, err)
		}
	}
	if _, err := h.Publish("5", "lee", "busy", "x"); !errors.Is(err, ErrTooFast) {
		t.Errorf("past the burst: %v", err)
	}
	now = now.Add(time.Second / PublishRate)
	if _, err := h.Publish("5", "lee", "busy", "x"); err != nil {
		t.Errorf("a token later: %v", err)
	}
	if _, err := h.Publish("6", "ann", "busy", "x"); err != nil {
		t.Errorf("another caller is not held back by the first: %v", err)
	}
	if st := h.Stats(); st.TooFast != 1 || st.Published != PublishBurst+2 {
		t.Errorf("stats %+v", st)
	}
}

// TestOneAccountOnManyConnectionsSharesItsRate: a caller logged in on
// several connections publishes at one caller's rate, not at that rate
// per connection (each event grows every listener's journal).
func TestOneAccountOnManyConnectionsSharesItsRate(t *testing.T) {
	h := New(func(string, Event) {}, nil, nil)
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	sent := 0
	for i := range 8 * PublishBurst {
		if _, err := h.Publish(fmt.Sprint(1+i%8), "lee", fmt.Sprint("room", i%2), "x"); err == nil {
			sent++
		} else if !errors.Is(err, ErrTooFast) {
			t.Fatal(err)
		}
	}
	if sent != PublishBurst {
		t.Errorf("lee on 8 connections published %d events at once, want %d", sent, PublishBurst)
	}
	if _, err := h.Publish("9", "conn 9", "room0", "x"); err != nil {
		t.Errorf("a caller not logged in is held back by lee: %v", err)
	}
}

// TestEventsCrossLines: two hubs (two lines' hosts) over one database.
func TestEventsCrossLines(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b1, b2 := newInbox(), newInbox()
	line1, line2 := New(b1.deliver, db, nil), New(b2.deliver, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, h := range []*Hub{line1, line2} {
		wg.Add(1)
		go func() { defer wg.Done(); h.Poll(ctx, 10*time.Millisecond) }()
	}
	defer wg.Wait()
	defer cancel()
	if err := line1.Subscribe("1", "chat", false); err != nil {
		t.Fatal(err)
	}
	if err := line2.Subscribe("2", "chat", false); err != nil {
		t.Fatal(err)
	}
	if n, err := line1.Publish("1", "kim", "chat", "over the wire"); n != 0 || err != nil {
		t.Fatalf("Publish = %d, %v; want 0 here (the listener is on line 2)", n, err)
	}
	select {
	case <-b2.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the event never reached line 2")
	}
	if got := b2.of("2"); len(got) != 1 || got[0].Text != "over the wire" || got[0].From != "kim" {
		t.Errorf("line 2 got %v", got)
	}
	if got := b1.of("1"); len(got) != 0 {
		t.Errorf("the publisher got its own event back: %v", got)
	}
}

// A caller who left a room and came back before their line read what
// another line said there does not hear it: it was said before they came
// back (while they were out, or before they left). Nor does a caller who
// came for the first time since. A caller there all along does, and all
// of them hear what is said after.
func TestEventsOfOtherLinesSaidBeforeAJoinAreNotHeard(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b2 := newInbox()
	line1, line2 := New(func(string, Event) {}, db, nil), New(b2.deliver, db, nil)
	for _, id := range []string{"stayed", "came back"} {
		if err := line2.Subscribe(id, "chat", false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := line1.Publish("1", "kim", "chat", "said before"); err != nil {
		t.Fatal(err)
	}
	line2.Unsubscribe("came back", "chat")
	for _, id := range []string{"came back", "new"} {
		if err := line2.Subscribe(id, "chat", false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := line1.Publish("1", "kim", "chat", "said after"); err != nil {
		t.Fatal(err)
	}
	line2.pollOnce(context.Background(), line2.since)
	texts := func(id string) string {
		var out []string
		for _, ev := range b2.of(id) {
			out = append(out, ev.Text)
		}
		return fmt.Sprint(out)
	}
	for id, want := range map[string]string{"stayed": "[said before said after]", "came back": "[said after]", "new": "[said after]"} {
		if got := texts(id); got != want {
			t.Errorf("%s heard %s, want %s", id, got, want)
		}
	}
}

// An event given out before a caller left a channel and came back is not
// theirs when it reaches their worker after; one given out after is. A
// session rebuilt by replay, taking up its subscription (forced), hears
// what was on its way.
func TestEventGivenOutBeforeALeaveAndRejoinIsNotHeard(t *testing.T) {
	var got []Event
	h := New(func(_ string, ev Event) { got = append(got, ev) }, nil, nil)
	if err := h.Subscribe("1", "room", false); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"before", "after"} {
		if _, err := h.Publish("2", "lee", "room", text); err != nil {
			t.Fatal(err)
		}
		if text == "before" {
			h.Unsubscribe("1", "room")
			if err := h.Subscribe("1", "room", false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("delivered %v; want the two events", got)
	}
	if h.Hears("1", "room", got[0].Stamp) || !h.Hears("1", "room", got[1].Stamp) {
		t.Errorf("hears before = %v, after = %v; want false, true", h.Hears("1", "room", got[0].Stamp), h.Hears("1", "room", got[1].Stamp))
	}
	h.Unsubscribe("1", "room")
	if h.Hears("1", "room", got[1].Stamp) {
		t.Error("a caller who left the room hears its events")
	}
	if err := h.Subscribe("1", "room", true); err != nil {
		t.Fatal(err)
	}
	if !h.Hears("1", "room", got[0].Stamp) {
		t.Error("a replayed caller taking up their subscription does not hear what was on its way")
	}
}
