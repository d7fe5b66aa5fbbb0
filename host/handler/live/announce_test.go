package live

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// TestNoticesHaveAnAllowanceOfTheirOwn: a publisher who spent their
// publishing burst is still announced, within NoticeBurst notices; and
// those run out too.
func TestNoticesHaveAnAllowanceOfTheirOwn(t *testing.T) {
	b := newInbox()
	h := New(b.deliver, nil, nil)
	now := time.Unix(1_700_000_000, 0)
	h.now = func() time.Time { return now }
	if err := h.Subscribe("2", "room", false); err != nil {
		t.Fatal(err)
	}
	for range PublishBurst {
		if _, err := h.Publish("1", "lee", "room", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Publish("1", "lee", "room", "x"); !errors.Is(err, ErrTooFast) {
		t.Fatalf("past the publishing burst: %v", err)
	}
	for i := range NoticeBurst {
		if n, err := h.Announce("1", "lee", "room", "* lee comes in."); err != nil || n != 1 {
			t.Fatalf("notice %d = %d, %v", i, n, err)
		}
	}
	if _, err := h.Announce("1", "lee", "room", "* lee comes in."); !errors.Is(err, ErrTooFast) {
		t.Errorf("past the notice burst: %v", err)
	}
	now = now.Add(time.Second / NoticeRate)
	if _, err := h.Announce("1", "lee", "room", "* lee leaves."); err != nil {
		t.Errorf("a notice later: %v", err)
	}
}

// TestFarewellsWithinTheNoticeAllowance: one account hanging up on many
// connections at once says NoticeBurst farewells, not one per connection.
func TestFarewellsWithinTheNoticeAllowance(t *testing.T) {
	b := newInbox()
	h := New(b.deliver, nil, nil)
	if err := h.Subscribe("listener", "room", false); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * NoticeBurst {
		id := fmt.Sprint(i)
		if err := h.Subscribe(id, "room", true); err != nil {
			t.Fatal(err)
		}
		h.SetFarewell(id, "room", "kim", "* kim hangs up.")
	}
	for i := range 3 * NoticeBurst {
		h.Forget(fmt.Sprint(i))
	}
	h.WaitDepartures()
	if got := len(b.of("listener")); got < NoticeBurst || got > NoticeBurst+1 {
		t.Errorf("the room got %d farewells of kim's %d connections; want about %d", got, 3*NoticeBurst, NoticeBurst)
	}
}

// TestRestartedDropsWhatTheSessionSetUp: a session whose replay diverged
// listens nowhere, says no farewell, and its held values are released.
func TestRestartedDropsWhatTheSessionSetUp(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b := newInbox()
	h := New(b.deliver, nil, nil)
	h.SetTables(db)
	seat := store.SharedValue{Kind: store.SharedString, Str: "lobby"}
	if _, _, err := db.SharedUpdate(ctx, "where", "kim", func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return &seat, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		if err := h.Subscribe(id, "room", true); err != nil {
			t.Fatal(err)
		}
	}
	h.SetFarewell("1", "room", "kim", "* kim hangs up.")
	if err := h.Hold("1", "where", "kim", seat, true); err != nil {
		t.Fatal(err)
	}
	h.Restarted("1")
	if _, ok, _ := db.SharedGet(ctx, "where", "kim"); ok {
		t.Error("kim's seat outlived his restart")
	}
	if n, _ := h.Publish("2", "lee", "room", "anyone?"); n != 0 {
		t.Errorf("lee reached %d listeners; kim, restarted, listens no more", n)
	}
	h.Forget("1")
	h.WaitDepartures()
	if got := b.of("2"); len(got) != 0 {
		t.Errorf("lee got %v after kim's restart and hang-up", got)
	}
}
