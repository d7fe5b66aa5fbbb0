package luaapi

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

// TestQWKModuleRound: a script builds ann's packet, the independent
// reader reads its file, ann's REP with two replies and a mail is posted
// through the script and bob reads them where a caller would; a
// malformed REP is refused whole and changes nothing.
func TestQWKModuleRound(t *testing.T) {
	L, db := newBoardState(t)
	dir := t.TempDir()
	L.PreloadModule("qwk", (&QWK{Service: &qwkmail.Service{Store: db}, Dir: dir}).Loader)
	runLuaOK(t, L, `
		local board, qwk = require 'board', require 'qwk'
		assert(board.define_area('tech', 'Computers'))
		assert(board.define_area('sysop', 'Staff'))
		hello = assert(board.post('general', 'bob', 'Hello', {'hi all'}))
		modem = assert(board.post('tech', 'cy', 'Modems', {'56k'}))
		assert(board.post('sysop', 'bob', 'Staff only', {'psst'}))

		local areas = assert(qwk.areas('ann', {'general', 'tech'}))
		assert(#areas == 2 and areas[1].name == 'general' and areas[1].conference == 1 and areas[1].selected)
		assert(qwk.select('ann', 'tech', true))
		areas = assert(qwk.areas('ann', {'general', 'tech'}))
		assert(not areas[1].selected and areas[2].selected, 'only tech is chosen now')
		assert(qwk.select('ann', 'general', true))

		packet = assert(qwk.build('ann', {'general', 'tech'}, {bbsid = 'LUABBS', name = 'Lua Board'}))
		assert(packet.messages == 2 and packet.file == 'LUABBS.QWK' and #packet.token == 32, packet.messages)
		assert(packet.areas[1].area == 'general' and packet.areas[1].posts == 1)
		path = assert(qwk.file('ann', packet.token, {bbsid = 'LUABBS'}))
		assert(board.new_count('ann', 'general') == 1, 'building moves no pointer')
		local none, err = qwk.file('bob', packet.token)
		assert(none == nil and err:find('no such packet'), err)
	`)
	path := lua.LVAsString(L.GetGlobal("path"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if len(p.Msgs) != 2 || p.Msgs[0].Subject != "Hello" || p.Msgs[1].Subject != "Modems" || p.Confs[2] == "" {
		t.Fatalf("packet: %+v %v", p.Msgs, p.Confs)
	}
	rep, err := qwk.BuildREP("LUABBS", []qwk.Message{
		{Conference: p.Msgs[0].Conference, To: "bob", Subject: "Re: Hello", ReplyTo: int64(p.Msgs[0].Number), Lines: []string{"hi bob"}},
		{Conference: p.Msgs[1].Conference, To: "cy", ReplyTo: int64(p.Msgs[1].Number), Lines: []string{"33.6"}},
		{Conference: 0, Private: true, To: "bob", Subject: "lunch?", Lines: []string{"noon?"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	repPath := filepath.Join(t.TempDir(), "LUABBS.REP")
	if err := os.WriteFile(repPath, rep, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "BAD.REP")
	if err := os.WriteFile(bad, rep[:len(rep)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("rep", lua.LString(repPath))
	L.SetGlobal("bad", lua.LString(bad))
	runLuaOK(t, L, `
		local board, mail, qwk = require 'board', require 'mail', require 'qwk'
		local r = assert(qwk.post('ann', bad, {'general', 'tech'}, {bbsid = 'LUABBS'}))
		assert(r.error and r.posted == 0 and r.lines[1]:find('refused, nothing was posted'), r.lines[1])
		assert(board.count('general') == 1 and board.count('tech') == 1)
		assert(select(1, mail.count('bob')) == 0)

		r = assert(qwk.post('ann', rep, {'general', 'tech'}, {bbsid = 'LUABBS'}))
		assert(r.error == nil and r.posted == 3 and r.refused == 0, table.concat(r.lines, '\n'))
		assert(r.lines[4] == '3 posted, 0 refused.', r.lines[4])
		local thread = assert(board.thread(hello))
		assert(#thread == 2 and thread[2].author == 'ann' and thread[2].id == r.messages[1].post)
		local reply = assert(board.read(r.messages[2].post))
		assert(reply.parent == modem and reply.subject == 'Re: Modems' and reply.lines[1] == '33.6', reply.subject)
		local inbox = assert(mail.list('bob'))
		assert(#inbox == 1 and inbox[1].from == 'ann' and inbox[1].subject == 'lunch?')
		assert(mail.read('bob', inbox[1].id).lines[1] == 'noon?')

		local again = assert(qwk.post('ann', rep, {'general', 'tech'}, {bbsid = 'LUABBS'}))
		assert(again.posted == 0 and again.messages[1].reason == 'already posted')

		local ok, first = qwk.fetched('ann', packet.token)
		assert(ok and first)
		ok, first = qwk.fetched('ann', packet.token)
		assert(ok and not first, 'fetched twice moves nothing more')
		assert(board.new_count('ann', 'general') == 0 and board.new_count('ann', 'tech') == 0)
		local none, err = qwk.build('ann', {'general', 'tech'})
		assert(none == nil and err == 'no new messages in your areas', err)
	`)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the packet file outlived its fetch: %v", err)
	}
}

// TestQWKBuildInterval: within the interval qwk.build answers the same
// packet again (a retry after a failed transfer), until it is fetched;
// another user is not held up.
func TestQWKBuildInterval(t *testing.T) {
	L, db := newBoardState(t)
	L.PreloadModule("qwk", (&QWK{Service: &qwkmail.Service{Store: db}, Dir: t.TempDir(), BuildInterval: time.Hour}).Loader)
	runLuaOK(t, L, `
		local board, qwk = require 'board', require 'qwk'
		assert(board.post('general', 'cy', 'Hi', {'hello'}))
		local first = assert(qwk.build('ann', {'general'}))
		assert(board.post('general', 'cy', 'Again', {'hello'}))
		local again = assert(qwk.build('ANN', {'general'}))
		assert(again.token == first.token and again.messages == 1, 'the same packet again')
		assert(qwk.build('bob', {'general'}), 'bob waits for nobody')
		assert(qwk.fetched('ann', first.token))
		local next = assert(qwk.build('ann', {'general'}))
		assert(next.token ~= first.token and next.messages == 1, 'a new packet after the fetch')
	`)
}
