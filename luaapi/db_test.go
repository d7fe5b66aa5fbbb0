package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestDBModule(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		require 'db'
		assert(db.user_exists('ann') == false)
		assert(db.register_user('ann', 'secret') == true)
		assert(db.user_exists('ann') == true)
		assert(db.auth_user('ann', 'secret') == true)
		assert(db.auth_user('ann', 'wrong') == false)

		local ok, err = db.register_user('ann', 'again')
		assert(ok == nil and err:find('exists'), err)

		assert(db.message_count() == 0)
		assert(db.post_message('ann', {'one', 'two', ''}) == 1)
		assert(db.post_message('ann', 'single\nstring') == 2)
		assert(db.message_count() == 2)
		assert(db.message_read(0) == 'From: ann\none\ntwo\n', db.message_read(0))
		assert(db.message_read(1) == 'From: ann\nsingle\nstring')
		local text, err = db.message_read(2)
		assert(text == nil and type(err) == 'string')

		assert(db.register_user('bob', 'pw'))
		assert(db.inbox_count('bob') == 0)
		assert(db.send_to('bob', 'ann', {'psst'}) == true)
		assert(db.inbox_count('bob') == 1)
		assert(db.read_inbox('bob') == 'From: ann\npsst')
		assert(db.inbox_count('bob') == 0)
		local none, why = db.read_inbox('bob')
		assert(none == nil and why == 'no unread mail', why)
		local sent, err = db.send_to('nobody', 'ann', {'x'})
		assert(sent == nil and err:find('no such user'), err)
		assert(db.reconnect() == true)
	`)
}

func TestDBFailuresAreNilAndMessage(t *testing.T) {
	e := newTestEnv(t)
	e.store.failWith = errDiskFull
	e.run(t, `
		require 'db'
		local v, err = db.message_count()
		assert(v == nil and err == 'disk full', err)
		local ok, err = pcall(function() assert(db.post_message('ann', {'x'})) end)
		assert(not ok and err:find('disk full'), err)
	`)
}

func TestDBMisuseRaises(t *testing.T) {
	for _, src := range []string{
		`db.post_message('ann', {true})`,
		`db.post_message('ann', 42 == 42)`,
		`db.user_exists()`,
	} {
		e := newTestEnv(t)
		err := e.runErr(`require 'db' ` + src)
		if err == nil || !strings.Contains(err.Error(), "bad argument") {
			t.Errorf("%s: err = %v, want a bad argument error", src, err)
		}
	}
}

func TestDBOnLogin(t *testing.T) {
	e := newTestEnv(t)
	var logins []string
	e.L.SetGlobal("db", lua.LNil)
	mod := &DB{Store: e.store, OnLogin: func(_ *lua.LState, name string) { logins = append(logins, name) }}
	e.L.Push(e.L.NewFunction(mod.Loader))
	e.L.Call(0, 1)
	e.L.SetGlobal("db2", e.L.Get(-1))
	e.run(t, `
		assert(db2.register_user('ann', 'pw'))
		assert(db2.auth_user('ann', 'wrong') == false)
		assert(db2.auth_user('ann', 'pw'))
	`)
	if strings.Join(logins, ",") != "ann,ann" {
		t.Errorf("logins = %v, want a register and a successful auth", logins)
	}
}
