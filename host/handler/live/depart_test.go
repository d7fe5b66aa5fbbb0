package live

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// TestFarewellOnlyWhenTheCallEndsInTheChannel: a caller whose call ends
// while listening says their farewell to the others once; one who left
// the channel first says nothing, nor one whose session moves to another
// host.
func TestFarewellOnlyWhenTheCallEndsInTheChannel(t *testing.T) {
	b := newInbox()
	h := New(b.deliver, nil, nil)
	for _, id := range []string{"1", "2", "3"} {
		if err := h.Subscribe(id, "room", false); err != nil {
			t.Fatal(err)
		}
	}
	h.SetFarewell("1", "room", "kim", "* kim hangs up.")
	h.SetFarewell("2", "room", "lee", "* lee hangs up.")
	h.SetFarewell("3", "elsewhere", "max", "* max is not here.") // not listening: ignored
	h.Unsubscribe("2", "room")
	h.Forget("2")
	if err := h.Subscribe("4", "room", false); err != nil {
		t.Fatal(err)
	}
	h.SetFarewell("4", "room", "ann", "* ann hangs up.")
	h.Moving("4") // drained to another line: she goes on there
	h.Forget("4")
	h.Forget("1")
	h.WaitDepartures()
	if got := b.of("3"); len(got) != 1 || unstamped(got[0]) != (Event{Channel: "room", From: "kim", Text: "* kim hangs up."}) {
		t.Errorf("conn 3 got %v; want kim's farewell only", got)
	}
	if got := b.of("1"); len(got) != 0 {
		t.Errorf("kim got %v", got)
	}
}

// TestHeldValuesReleasedAtTheEndOfTheCall: a value held for a call is
// deleted when the call ends, unless it was changed since.
func TestHeldValuesReleasedAtTheEndOfTheCall(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	h := New(newInbox().deliver, nil, nil)
	h.SetTables(db)
	set := func(key, v string) store.SharedValue {
		val := store.SharedValue{Kind: store.SharedString, Str: v}
		if _, _, err := db.SharedUpdate(ctx, "who", key, func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
			return &val, true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return val
	}
	for _, key := range []string{"kim", "lee"} {
		if err := h.Hold("1", "who", key, set(key, "lobby"), false); err != nil {
			t.Fatal(err)
		}
	}
	set("lee", "cellar") // someone else's since: kept
	if err := h.Hold("9", "who", "ann", set("ann", "lobby"), false); err != nil {
		t.Fatal(err)
	}
	h.Moving("9") // drained to another line: her seat stays
	h.Forget("9")
	h.Forget("1")
	h.WaitDepartures()
	if _, ok, _ := db.SharedGet(ctx, "who", "ann"); !ok {
		t.Error("the seat of a caller moved to another host was released")
	}
	if _, ok, _ := db.SharedGet(ctx, "who", "kim"); ok {
		t.Error("kim's value outlived the call")
	}
	if v, ok, _ := db.SharedGet(ctx, "who", "lee"); !ok || v.Str != "cellar" {
		t.Errorf("lee's value, set by another since, is %v %v; want cellar", v, ok)
	}

	for i := range MaxHoldsPerCaller {
		if err := h.Hold("2", "who", fmt.Sprint(i), set("x", "y"), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Hold("2", "who", "0", set("x", "z"), false); err != nil {
		t.Errorf("holding a key again: %v", err)
	}
	if err := h.Hold("2", "who", "one more", set("x", "y"), false); !errors.Is(err, ErrTooManyHolds) {
		t.Errorf("past the limit: %v", err)
	}
	if err := h.Hold("2", "who", "one more", set("x", "y"), true); err != nil {
		t.Errorf("forced (a replay): %v", err)
	}
	if v, ok := h.Release("2", "who", "0"); !ok || v.Str != "z" {
		t.Errorf("Release = %v, %v; want the value held, z", v, ok)
	}
	if _, ok := h.Release("2", "who", "0"); ok {
		t.Error("a key released twice")
	}
	h.Release("2", "who", "one more") // 7 held now
	if err := h.Hold("2", "who", "room again", set("x", "y"), false); err != nil {
		t.Errorf("a key released makes room for another: %v", err)
	}
}
