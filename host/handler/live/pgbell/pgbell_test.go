package pgbell

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// startBell runs a bell on dsn until the test ends.
func startBell(t *testing.T, dsn string, backstop time.Duration) *Bell {
	t.Helper()
	b, err := New(dsn, backstop, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { b.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return b
}

// TestRingWakesTheOtherHost: a ring on one host's bell makes the other's
// Wait return at once, not at its (hour-long) backstop.
func TestRingWakesTheOtherHost(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b := startBell(t, dsn, time.Hour), startBell(t, dsn, time.Hour)
	// Each bell wakes once when its listening connection is up (the
	// backlog): after that, a Wait returns only for a ring.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, x := range []*Bell{a, b} {
		if err := x.Wait(ctx); err != nil {
			t.Fatal("the bell never listened:", err)
		}
	}
	var took []time.Duration
	for range 5 {
		start := time.Now()
		if err := a.Ring(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatal("the other host's bell never rang:", err)
		}
		took = append(took, time.Since(start))
	}
	t.Logf("ring to wake: %v", took)
}

// TestBackstop: without a ring, Wait returns after the backstop.
func TestBackstop(t *testing.T) {
	b, err := New("postgres://nobody@127.0.0.1:1/none", 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("Wait returned after %v, want the 50ms backstop", d)
	}
	if _, err := New("postgres://%zz", 0, nil); err == nil {
		t.Error("a DSN that does not parse was taken")
	}
}

// TestEventsCrossHostsOnTheBell: two hubs (two lines' hosts) on one
// PostgreSQL board, each with its bell and a backstop of an hour: an event
// published on one reaches a listener on the other because the bell rang.
func TestEventsCrossHostsOnTheBell(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db, err := store.Open(dsn, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := make(chan live.Event, 10)
	line1 := live.New(func(string, live.Event) {}, db, nil)
	line2 := live.New(func(_ string, ev live.Event) { got <- ev }, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range []*live.Hub{line1, line2} {
		bell := startBell(t, dsn, time.Hour)
		h.SetBell(bell)
		wg.Go(func() { h.Poll(ctx, time.Hour) })
	}
	defer wg.Wait()
	defer cancel()
	if err := line2.Subscribe("2", "chat", false); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		start := time.Now()
		if _, err := line1.Publish("1", "kim", "chat", "rung "+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-got:
			if ev.Text != "rung "+string(rune('a'+i)) {
				t.Fatalf("line 2 got %+v", ev)
			}
			t.Logf("event %d crossed in %v", i, time.Since(start))
		case <-time.After(10 * time.Second):
			t.Fatal("the event never reached line 2")
		}
	}
}
