package luaapi

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// sysopAnnBob registers Zed (the sysop), ann and bob, and logs Zed in.
const sysopAnnBob = `
	require 'db' require 'users'
	assert(db.register_user('Zed', 'pw'))
	assert(db.register_user('ann', 'pw'))
	assert(db.register_user('bob', 'pw'))
	assert(db.auth_user('zed', 'pw'))
`

// TestAccessRules: the sysop gives callers numbered levels, groups and
// flags; users.allowed answers rules over them, and refuses a broken
// rule with its column.
func TestAccessRules(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, sysopAnnBob)
	e.run(t, `
		assert(users.set_level('ann', 100))
		assert(users.set_group('ann', 'CoSysop', true))
		assert(users.set_flags('ann', 'x'))
		local ok, err = users.set_level('ann', 256)
		assert(ok == nil and err:find('between 0 and 255'), err)
		local ok, err = users.set_group('ann', 'two words')
		assert(ok == nil and err:find('group'), err)
		local ann = users.info('ann')
		assert(ann.security == 100 and ann.level == 'user' and ann.groups[1] == 'cosysop' and ann.flags == 'X', ann.security)

		assert(db.auth_user('ann', 'pw'))
		assert(users.allowed("level >= 20 and group('cosysop')"))
		assert(users.allowed('user') and not users.allowed('sysop') and users.allowed(100) and not users.allowed(101))
		assert(users.allowed("flag(X) and not flag(Y)"))
		local r = users.allowed_all({'user', false, "group('cosysop')", 'sysop', 100})
		assert(#r == 5 and r[1] and r[2] and r[3] and not r[4] and r[5])
		local ok, err = users.set_group('bob', 'cosysop')
		assert(ok == nil and err == 'only the sysop may do that', err)

		assert(db.auth_user('bob', 'pw'))
		assert(not users.allowed("level >= 20 and group('cosysop')"))
		assert(users.allowed("level >= 20") and users.allowed(nil) and users.allowed(''))
		assert(users.check_rule("calls > 1 or age >= 7"))
		local ok, err = users.check_rule("level >= 20 and group('cosysop'")
		assert(ok == nil and err:find('column 32'), err)
	`)
	err := e.L.DoString(`users.allowed('level >=> 3')`)
	if err == nil || !strings.Contains(err.Error(), "column 9") {
		t.Errorf("a broken rule: %v, want an error at column 9", err)
	}
}

// TestMenuAccessRules: a menu item with an access rule is listed for,
// and answered to, callers who pass it only; menu.new refuses a rule
// that does not compile, with its column.
func TestMenuAccessRules(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, sysopAnnBob)
	e.run(t, `
		assert(users.set_group('ann', 'cosysop'))
		local menu = require 'menu'
		m = menu.new { title = 'M', status = function() return 'status line' end, items = {
			{key = '1', label = 'One', action = 'back'},
			{key = 'C', label = 'Co-sysops', action = 'back', access = "level >= 20 and group('cosysop')"},
			{key = 'Q', label = 'Quit', action = 'quit'},
		}}
		local ok, err = pcall(menu.new, {items = {{key = 'X', action = 'back', access = 'level >'}}})
		assert(not ok and err:find('item "X"') and err:find('column 8'), err)
	`)
	for _, tc := range []struct {
		user, menu string
		mayC       bool
	}{
		{"ann", "---(((M)))---\n1. One\nC. Co-sysops\nQ. Quit\nstatus line", true},
		{"bob", "---(((M)))---\n1. One\nQ. Quit\nstatus line", false},
	} {
		e.current = tc.user
		e.run(t, `rendered = menu.render(m) found = menu.find(m, 'c') ~= nil`)
		if got := e.L.GetGlobal("rendered").String(); got != tc.menu {
			t.Errorf("%s sees %q, want %q", tc.user, got, tc.menu)
		}
		if got := e.L.GetGlobal("found") == lua.LTrue; got != tc.mayC {
			t.Errorf("%s may choose C: %v, want %v", tc.user, got, tc.mayC)
		}
	}
}

// TestApprovalFunctions: the sysop lists the callers waiting and
// approves them; others may not.
func TestApprovalFunctions(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `
		require 'db' require 'users'
		assert(db.register_user('Zed', 'pw'))
		assert(db.register_user('ann', 'pw'))
		local ok, err = users.waiting()
		assert(ok == nil and err == 'only the sysop may do that', err)
		assert(db.auth_user('zed', 'pw'))
		assert(#users.waiting() == 0)
		local ok, err = users.approve('ann')
		assert(ok == nil and err:find('not waiting'), err)
		assert(users.time_left() == nil)
	`)
}

// TestTimeLeft: users.time_left gives the host's answer in whole
// seconds, or nil for no limit.
func TestTimeLeft(t *testing.T) {
	left, limited := 90*time.Second+300*time.Millisecond, true
	L := lua.NewState()
	t.Cleanup(L.Close)
	u := &Users{Current: func(*lua.LState) string { return "ann" },
		TimeLeft: func(*lua.LState) (time.Duration, bool) { return left, limited }}
	InstallModules(L, []Module{{Name: "users", Loader: u.Loader}})
	if err := L.DoString(`require 'users' assert(users.time_left() == 90, users.time_left())`); err != nil {
		t.Fatal(err)
	}
	limited = false
	if err := L.DoString(`assert(users.time_left() == nil)`); err != nil {
		t.Fatal(err)
	}
}

// TestTimeLeftIsJournaledWithoutLimits: on a board without time limits
// users.time_left is always nil, and still journaled, so that a session
// journaled before the sysop turns limits on (or off) replays the same
// calls after.
func TestTimeLeftIsJournaledWithoutLimits(t *testing.T) {
	calls := callLog{}
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := New(Deps{Screens: screenMap{}, Recorder: calls}).Open(L); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`assert(require('users').time_left() == nil)`); err != nil {
		t.Fatal(err)
	}
	if _, ok := calls["users.time_left"]; !ok {
		t.Error("users.time_left was not journaled on a board without time limits")
	}
}
