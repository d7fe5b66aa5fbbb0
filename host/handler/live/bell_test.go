package live

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// wire is a bell shared by the hubs of one test, as a database server's
// notifications are: a ring wakes every hub's Wait; Wait never returns
// by itself.
type wire struct {
	mu    sync.Mutex
	bells []chan struct{}
	rings int
}

// bell is one host's end of the wire.
type bell struct {
	w  *wire
	ch chan struct{}
}

func (w *wire) bell() *bell {
	b := &bell{w: w, ch: make(chan struct{}, 1)}
	w.mu.Lock()
	w.bells = append(w.bells, b.ch)
	w.mu.Unlock()
	return b
}

func (b *bell) Ring(context.Context) error {
	b.w.mu.Lock()
	defer b.w.mu.Unlock()
	b.w.rings++
	for _, ch := range b.w.bells {
		select {
		case ch <- struct{}{}:
		default: // a ring is already waiting
		}
	}
	return nil
}

func (b *bell) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.ch:
		return nil
	}
}

// TestBellCarriesEventsAcrossLines: with a bell that only rings (no
// clock), an event published on line 1 reaches line 2's listener, and
// only after line 1 rang.
func TestBellCarriesEventsAcrossLines(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &wire{}
	b1, b2 := newInbox(), newInbox()
	line1, line2 := New(b1.deliver, db, nil), New(b2.deliver, db, nil)
	line1.SetBell(w.bell())
	line2.SetBell(w.bell())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range []*Hub{line1, line2} {
		wg.Go(func() { h.Poll(ctx, time.Hour) }) // the interval is the bell's business now
	}
	defer wg.Wait()
	defer cancel()
	if err := line2.Subscribe("2", "chat", false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := line1.Publish("1", "kim", "chat", "rung across"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b2.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the event never reached line 2")
	}
	t.Logf("line 1 to line 2 in %v", time.Since(start))
	if got := b2.of("2"); len(got) != 1 || got[0].Text != "rung across" {
		t.Errorf("line 2 got %v", got)
	}
	w.mu.Lock()
	rings := w.rings
	w.mu.Unlock()
	if rings != 1 {
		t.Errorf("%d rings for one event", rings)
	}
}

func TestPollBellWaitsItsInterval(t *testing.T) {
	start := time.Now()
	if err := (PollBell{Interval: 30 * time.Millisecond}).Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("returned after %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (PollBell{Interval: time.Hour}).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait returned %v", err)
	}
}
