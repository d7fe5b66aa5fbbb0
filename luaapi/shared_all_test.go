package luaapi

import (
	"fmt"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// TestSharedAllReadsATableAtOnce: shared.all gives every key of a table
// with its value, of each kind, in one call.
func TestSharedAllReadsATableAtOnce(t *testing.T) {
	L, _ := sharedEnv(t, openSharedStore(t), nil)
	err := L.DoString(`
		local shared = require 'shared'
		assert(next(shared.all('seats')) == nil)
		assert(shared.set('seats', 'kim', 'lobby kim 1'))
		assert(shared.set('seats', 'n', 42))
		assert(shared.set('seats', 'open', false))
		local all = shared.all('seats')
		assert(all.kim == 'lobby kim 1' and all.n == 42 and all.open == false, 'shared.all')
		local n = 0
		for _ in pairs(all) do n = n + 1 end
		assert(n == 3, n)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestSharedAnnounceHasItsOwnAllowance: shared.announce still reaches the
// room when the caller's publishing allowance is spent, within the
// notice allowance.
func TestSharedAnnounceHasItsOwnAllowance(t *testing.T) {
	var got []string
	hub := live.New(func(id string, ev live.Event) { got = append(got, ev.Text) }, nil, nil)
	if err := hub.Subscribe("8", "room", false); err != nil {
		t.Fatal(err)
	}
	L, _ := sharedEnv(t, openSharedStore(t), hub)
	err := L.DoString(fmt.Sprintf(`
		local shared = require 'shared'
		for i = 1, %d do assert(shared.publish(conn, 'room', 'x')) end
		local n, err = shared.publish(conn, 'room', 'x')
		assert(n == nil and err:find('too fast'), tostring(err))
		assert(shared.announce(conn, 'room', '* kim comes in.') == 1)
	`, live.PublishBurst))
	if err != nil {
		t.Fatal(err)
	}
	if last := got[len(got)-1]; last != "* kim comes in." {
		t.Errorf("the room got %q last", last)
	}
}

// TestSharedHoldNotWrittenIsNotHeld: a hold whose write fails (the table
// is full) leaves the hub holding what it held before, so the hang-up
// releases nothing it should not.
func TestSharedHoldNotWrittenIsNotHeld(t *testing.T) {
	db := openSharedStore(t)
	hub := live.New(func(string, live.Event) {}, nil, nil)
	hub.SetTables(db)
	L, conn := sharedEnv(t, db, hub)
	err := L.DoString(fmt.Sprintf(`
		local shared = require 'shared'
		for i = 1, %d do assert(shared.set('full', 'k' .. i, 'v')) end
		local ok, err = shared.hold(conn, 'full', 'one more', 'x')
		assert(ok == nil and err:find('full'), tostring(err))
	`, store.MaxSharedKeysPerTable))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := hub.Release(conn.ID, "full", "one more"); ok {
		t.Errorf("the hub holds %v, which the table never had", v)
	}
}
