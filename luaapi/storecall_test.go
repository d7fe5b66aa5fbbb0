package luaapi

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // a second process's connection, holding the lock
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// TestALockedDatabaseFailsTheCallInTime: while another process holds the
// database's write lock, a db call that writes waits the store's busy
// timeout, then returns nil and a message (a store fault) instead of
// hanging its caller; once the lock is gone, the same call works.
func TestALockedDatabaseFailsTheCallInTime(t *testing.T) {
	const busy = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost, BusyTimeout: busy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.RegisterUser(t.Context(), "ann", "long enough"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	lock, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	L := lua.NewState()
	t.Cleanup(L.Close)
	d := &DB{Store: db}
	InstallModules(L, []Module{{Name: "db", Loader: d.Loader}})
	start := time.Now()
	if err := L.DoString(`require 'db' ok, err = db.post_message('ann', 'while locked')`); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	if ok := L.GetGlobal("ok"); ok != lua.LNil {
		t.Fatalf("post while the database was locked returned %v", ok)
	}
	if msg := L.GetGlobal("err").String(); !strings.Contains(msg, "database failed") {
		t.Errorf("the message: %q", msg)
	}
	if waited < busy || waited > busy+2*time.Second {
		t.Errorf("the call took %v, want the busy timeout (%v)", waited, busy)
	}
	if _, err := lock.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`assert(db.post_message('ann', 'after'))`); err != nil {
		t.Fatal(err)
	}
}

type ctxKey struct{}

// TestStoreCallsCannotBeCancelled: a store call's context keeps the Lua
// state's values but has no Done channel, so that go-sqlite3 runs its
// statements on the caller's goroutine (with one it starts a goroutine per
// statement, to interrupt it).
func TestStoreCallsCannotBeCancelled(t *testing.T) {
	L := lua.NewState()
	t.Cleanup(L.Close)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "session"))
	L.SetContext(ctx)
	var got context.Context
	if err := storeCall(L, func(c context.Context) error { got = c; return nil }); err != nil {
		t.Fatal(err)
	}
	cancel()
	if got.Done() != nil || got.Err() != nil || got.Value(ctxKey{}) != "session" {
		t.Errorf("the store call's context: done %v, err %v, value %v", got.Done(), got.Err(), got.Value(ctxKey{}))
	}
}
