package luaapi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/store"
	"github.com/m2bbs/m2bbs/host/throttle"
)

// accountsEnv is a Lua state with db and users over a real database; the
// current caller is whoever logged in last.
type accountsEnv struct {
	L       *lua.LState
	current string
	clock   time.Time
}

func newAccountsEnv(t *testing.T) *accountsEnv {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &accountsEnv{L: lua.NewState(), clock: time.Unix(1_700_000_000, 0)}
	t.Cleanup(e.L.Close)
	th := throttle.New(throttle.Limits{PerHandle: 3, PerPeer: 100, Window: time.Minute}, func() time.Time { return e.clock })
	d := &DB{
		Store: db, Accounts: db, Throttle: th,
		Peer:    func(*lua.LState) string { return "192.0.2.7" },
		OnLogin: func(_ *lua.LState, name string) { e.current = name },
	}
	u := &Users{Accounts: db, Current: func(*lua.LState) string { return e.current }}
	InstallModules(e.L, []Module{{Name: "db", Loader: d.Loader}, {Name: "users", Loader: u.Loader}})
	return e
}

func (e *accountsEnv) run(t *testing.T, src string) {
	t.Helper()
	if err := e.L.DoString(src); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

func TestUsersModule(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `
		require 'db' require 'users'
		assert(users.me() == nil)
		assert(db.register_user('Zed', 'pw'))        -- the first user is the sysop
		assert(users.is_sysop() and users.allowed('sysop') and users.me().level == 'sysop')
		assert(db.register_user('ann', 'pw'))
		assert(db.register_user('bob', 'pw'))
		local ok, err = db.register_user('SysOp', 'pw')
		assert(ok == nil and err:find('reserved'), err)

		-- ann, a user, may not act as the sysop
		assert(db.auth_user('ann', 'pw'))
		assert(not users.is_sysop() and users.allowed('user') and not users.allowed('sysop'))
		local ok, err = users.ban('bob')
		assert(ok == nil and err == 'only the sysop may do that', err)
		assert(users.write_wall('hello wall'))

		-- the sysop bans bob and makes ann new
		assert(db.auth_user('zed', 'pw'))
		assert(users.ban('bob'))
		assert(users.set_level('ann', 'new'))
		local ok, err = users.ban('ZED')
		assert(ok == nil and err:find('yourself'), err)
		local ok, err = users.set_level('ann', 'god')
		assert(ok == nil and err:find('level'), err)
		local list = users.list()
		assert(#list == 3 and list[1].name == 'ann' and list[1].level == 'new' and list[2].banned)

		local ok, err = db.auth_user('bob', 'pw')
		assert(ok == nil and err == 'this account is banned', err)
		assert(users.unban('bob'))
		assert(db.auth_user('bob', 'pw'))

		local calls = users.last_callers(3)
		assert(#calls == 3 and calls[1].user == 'bob' and calls[2].user == 'Zed' and calls[3].user == 'ann')
		local wall = users.wall()
		assert(#wall == 1 and wall[1].user == 'ann' and wall[1].text == 'hello wall')
		assert(users.info('ANN').calls == 2)  -- registering counts as a call
	`)
}

func TestLoginThrottle(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db' assert(db.register_user('ann', 'right'))`)
	for range 3 {
		e.run(t, `assert(db.auth_user('ann', 'wrong') == false)`)
	}
	err := e.L.DoString(`local ok, err = db.auth_user('ann', 'right') assert(ok, err)`)
	if err == nil || !strings.Contains(err.Error(), "too many failed logins: try again in 1 minute") {
		t.Fatalf("fourth attempt: %v", err)
	}
	e.clock = e.clock.Add(time.Minute)
	e.run(t, `assert(db.auth_user('ann', 'right'))`)
}

// accountsStore names the embedded store (a field named Accounts would
// hide the interface's Accounts method).
type accountsStore = store.Accounts

// countingAccounts counts Account look-ups.
type countingAccounts struct {
	accountsStore
	lookups int
}

func (c *countingAccounts) Account(ctx context.Context, name string) (store.Account, error) {
	c.lookups++
	return c.accountsStore.Account(ctx, name)
}

// TestLevelIsCached: a menu asks for the caller's level at every render;
// the database is asked once per LevelCacheTTL, and again after a change.
func TestLevelIsCached(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, name := range []string{"zed", "ann"} {
		if err := db.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	L := lua.NewState()
	defer L.Close()
	clock := time.Unix(1_700_000_000, 0)
	counting := &countingAccounts{accountsStore: db}
	current := "zed"
	u := &Users{Accounts: counting, Current: func(*lua.LState) string { return current }, Now: func() time.Time { return clock }}
	InstallModules(L, []Module{{Name: "users", Loader: u.Loader}})
	run := func(src string) {
		t.Helper()
		if err := L.DoString(src); err != nil {
			t.Fatal(err)
		}
	}
	run(`require 'users' for i = 1, 100 do assert(users.allowed('sysop')) end`)
	if counting.lookups != 1 {
		t.Errorf("%d look-ups for 100 renders, want 1", counting.lookups)
	}
	run(`assert(users.set_level('ann', 'new'))`)
	current = "ann"
	run(`assert(not users.allowed('user'))`)
	clock = clock.Add(LevelCacheTTL)
	before := counting.lookups
	run(`assert(users.allowed('new'))`)
	if counting.lookups != before+1 {
		t.Errorf("the cache outlived its %v", LevelCacheTTL)
	}
}
