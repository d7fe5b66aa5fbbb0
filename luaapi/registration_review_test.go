package luaapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
)

// TestReservedLookAlikes: letter pairs that pass for one letter, repeated
// letters and trailing digits do not get round the reserved names; a
// name that only shares some letters with one ("Al", "all") is free.
func TestReservedLookAlikes(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db'`)
	for _, name := range []string{"adrnin", "rnoderator", "aclmin", "Sysop1", "sysopp", "sysoop", "r00t99"} {
		err := e.L.DoString(`local ok, err = db.register_user('` + name + `', 'long enough') assert(ok, err)`)
		if err == nil || !strings.Contains(err.Error(), "is reserved") {
			t.Errorf("register %q: %v, want reserved", name, err)
		}
	}
	e.run(t, `assert(db.register_user('Al', 'long enough'))`)
}

// TestPasswordOfSpacesIsRefused: spaces do not count towards a new
// password's minimum length.
func TestPasswordOfSpacesIsRefused(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db'`)
	for _, pw := range []string{"        ", " x ", "\t\u00a0\u3000"} {
		err := e.L.DoString(`local ok, err = db.register_user('ann', '` + pw + `') assert(ok, err)`)
		if err == nil || !strings.Contains(err.Error(), "a password needs at least 2 characters, spaces not counted") {
			t.Errorf("register with password %q: %v, want refused", pw, err)
		}
	}
	e.run(t, `assert(db.register_user('ann', ' x y '))`)
}

// forgetFails is a throttle that cannot forget a caller's failures.
type forgetFails struct{ LoginThrottle }

func (forgetFails) LoginSucceeded(context.Context, string, string) error {
	return errors.New("database is locked")
}

// TestLoginSucceededFailureIsLogged: a login goes on when the throttle
// cannot forget the failed attempts, and the caller's log says so.
func TestLoginSucceededFailureIsLogged(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.RegisterUser(t.Context(), "ann", "right"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil)).With("conn_id", "42")
	L := lua.NewState()
	t.Cleanup(L.Close)
	d := &DB{
		Store: db, Throttle: forgetFails{throttle.New(db, throttle.Policy{}, nil)},
		Peer: func(*lua.LState) string { return "192.0.2.7" },
		Log:  func(*lua.LState) *slog.Logger { return logger },
	}
	InstallModules(L, []Module{{Name: "db", Loader: d.Loader}})
	if err := L.DoString(`require 'db' assert(db.auth_user('ann', 'right'))`); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); !strings.Contains(got, "conn_id=42") || !strings.Contains(got, "database is locked") {
		t.Errorf("the failure to forget is not in the caller's log:\n%s", got)
	}
}
