package luaapi

import (
	"strings"
	"testing"
)

func TestMailModuleKeepsMail(t *testing.T) {
	L, _ := newBoardState(t)
	runLuaOK(t, L, `
		local mail = require 'mail'
		assert(mail.unread('bob') == 0)
		local a = assert(mail.send('bob', 'ann', 'Lunch?', {'noon?'}))
		local b = assert(mail.send('bob', 'cy', nil, 'one\ntwo'))
		local c = assert(mail.send('cy', 'ann', 'for cy', {'secret'}))
		assert(mail.unread('bob') == 2)
		local total, unread = mail.count('bob')
		assert(total == 2 and unread == 2, total)

		local list = assert(mail.list('bob'))
		assert(#list == 2 and list[1].id == b and list[2].id == a)
		assert(list[2].from == 'ann' and list[2].to == 'bob' and list[2].subject == 'Lunch?')
		assert(list[1].read == false and list[1].lines == nil)
		assert(type(list[1].time) == 'number')
		assert(#assert(mail.list('bob', 1, 5)) == 1)

		local m = assert(mail.read('bob', b))
		assert(m.read == true and m.from == 'cy' and #m.lines == 2 and m.lines[2] == 'two')
		assert(mail.unread('bob') == 1)
		list = assert(mail.list('bob'))
		assert(#list == 2 and list[1].read == true and list[2].read == false, 'read mail is kept')

		local none, why = mail.read('bob', c)
		assert(none == nil and why == 'no such mail', why)
		none, why = mail.delete('bob', c)
		assert(none == nil and why == 'no such mail', why)
		none, why = mail.delete('ann', c)
		assert(none == nil and why == 'no such mail', 'the sender cannot delete delivered mail')
		assert(mail.unread('cy') == 1)

		assert(mail.delete('bob', b) == true)
		none, why = mail.delete('bob', b)
		assert(none == nil and why == 'no such mail', why)
		total, unread = mail.count('bob')
		assert(total == 1 and unread == 1, total)

		none, why = mail.send('zed', 'ann', 's', {'x'})
		assert(none == nil and why:find('no such user'), why)
		none, why = mail.send('bob', 'ann', 'a\nb', {'x'})
		assert(none == nil and why:find('invalid subject'), why)
		assert(#assert(mail.list('zed')) == 0)
	`)
}

func TestMailModuleSharesMailWithDB(t *testing.T) {
	L, db := newBoardState(t)
	L.PreloadModule("db", (&DB{Store: db}).Loader)
	runLuaOK(t, L, `
		local mail, db = require 'mail', require 'db'
		assert(db.send_to('bob', 'ann', {'old style'}))
		local id = assert(mail.send('bob', 'cy', 'new style', {'hello'}))
		assert(db.inbox_count('bob') == 2 and mail.unread('bob') == 2)
		assert(db.read_inbox('bob') == 'From: ann\nold style')
		local list = assert(mail.list('bob'))
		assert(#list == 2 and list[2].read == true and list[2].subject == '', 'db.read_inbox keeps the mail')
		assert(mail.read('bob', id).subject == 'new style')
		local none, why = db.read_inbox('bob')
		assert(none == nil and why == 'no unread mail', why)
	`)
}

func TestMailModuleMisuseRaises(t *testing.T) {
	for _, src := range []string{
		`mail.send('bob', 'ann', 's')`,
		`mail.send('bob', nil, 's', {'x'})`,
		`mail.read('bob')`,
		`mail.read('bob', 'x')`,
		`mail.delete(nil, 1)`,
		`mail.list('bob', -1)`,
		`mail.unread()`,
	} {
		L, _ := newBoardState(t)
		err := L.DoString(`local mail = require 'mail' ` + src)
		if err == nil || !strings.Contains(err.Error(), "bad argument") {
			t.Errorf("%s: err = %v, want a bad argument error", src, err)
		}
	}
}
