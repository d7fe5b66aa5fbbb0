package luaapi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
)

// accountsEnv is a Lua state with db and users over a real database; the
// current caller is whoever logged in last.
type accountsEnv struct {
	L       *lua.LState
	current string
	clock   time.Time
	peer    string // the caller's address
}

func newAccountsEnv(t testing.TB) *accountsEnv {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &accountsEnv{L: lua.NewState(), clock: time.Unix(1_700_000_000, 0), peer: "192.0.2.7"}
	t.Cleanup(e.L.Close)
	th := throttle.New(db, throttle.Policy{RegistrationsPerAddr: 3, MinPassword: 2}, func() time.Time { return e.clock })
	err = New(Deps{
		Screens: screenMap{}, Store: db, Throttle: th, MinPassword: 2,
		Peer:    func(*lua.LState) string { return e.peer },
		OnLogin: func(_ *lua.LState, name string) { e.current = name },
		User:    func(*lua.LState) string { return e.current },
	}).Open(e.L)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *accountsEnv) run(t testing.TB, src string) {
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

// TestLoginThrottle: three wrong guesses from one address at a name, then
// each further attempt from that address waits (1 s, then 2 s...), by the
// name's key whatever its spelling; the owner, from another address, logs
// in at once.
func TestLoginThrottle(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db' assert(db.register_user('ann', 'right'))`)
	for _, name := range []string{"ann", "ANN", "ann\u2009"} {
		e.run(t, `assert(db.auth_user('`+name+`', 'wrong') == false)`)
	}
	for _, name := range []string{"ann", "\uFF41nn", " ann\u200B"} {
		err := e.L.DoString(`local ok, err = db.auth_user('` + name + `', 'right') assert(ok, err)`)
		if err == nil || !strings.Contains(err.Error(), "too many failed logins: try again in 1 second") {
			t.Fatalf("fourth attempt as %q: %v", name, err)
		}
	}
	e.peer = "198.51.100.1" // the owner, elsewhere
	e.run(t, `assert(db.auth_user('ann', 'right'))`)
	e.peer = "192.0.2.7"
	e.clock = e.clock.Add(time.Second)
	e.run(t, `assert(db.auth_user('ann', 'wrong') == false)`)
	err := e.L.DoString(`local ok, err = db.auth_user('ann', 'wrong') assert(ok ~= nil, err)`)
	if err == nil || !strings.Contains(err.Error(), "try again in 2 seconds") {
		t.Fatalf("fifth attempt: %v", err)
	}
	e.clock = e.clock.Add(2 * time.Second)
	e.run(t, `assert(db.auth_user('ann', 'right'))`)
	e.run(t, `assert(db.auth_user('ann', 'wrong') == false)`) // the success forgot the count
	e.run(t, `assert(db.auth_user('ann', 'right'))`)
}

// TestRegistrationRules: look-alikes of reserved names are reserved, a
// name needs a letter, a password its minimum length, and one address
// registers at most RegistrationsPerAddr accounts per window.
func TestRegistrationRules(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db'`)
	for _, name := range []string{"sys0p", "sysop.", "SysOp", "\u0455ysop", "s-y-s-0-p", "ｓｙｓｏｐ", "Adm1n", "r00t", "new", "guest_"} {
		err := e.L.DoString(`local ok, err = db.register_user('` + name + `', 'long enough') assert(ok, err)`)
		if err == nil || !strings.Contains(err.Error(), "is reserved") {
			t.Errorf("register %q: %v", name, err)
		}
	}
	for src, want := range map[string]string{
		`db.register_user('1234', 'long enough')`: "a name needs a letter",
		`db.register_user('ann', 'x')`:            "a password needs at least 2 characters",
	} {
		if err := e.L.DoString(`local ok, err = ` + src + ` assert(ok, err)`); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
	e.run(t, `assert(db.register_user('ann', 'pw'))`)
	e.run(t, `local ok, err = db.register_user('ANN', 'pw') assert(not ok and err:find('exists'), err)`) // not counted
	e.run(t, `assert(db.register_user('bob', 'pw')) assert(db.register_user('cy', 'pw'))`)
	if err := e.L.DoString(`local ok, err = db.register_user('dee', 'pw') assert(ok, err)`); err == nil ||
		!strings.Contains(err.Error(), "too many new accounts from your address: try again in 60 minutes") {
		t.Fatalf("fourth registration: %v", err)
	}
	e.peer = "198.51.100.1"
	e.run(t, `assert(db.register_user('dee', 'pw'))`)
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
