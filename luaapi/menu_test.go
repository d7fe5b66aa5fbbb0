package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestMenuModule(t *testing.T) {
	e := newTestEnv(t)
	// A caller who is not the sysop.
	e.run(t, `package.preload.users = function() return {allowed = function(level) return level ~= 'sysop' end} end`)
	resume := e.coroutine(t, `
		local conn, req = ...
		local menu = require 'menu'
		local log = {}
		local sub = menu.new { title = 'SUB', items = {
			{key = 'x', label = 'Say x', action = function() log[#log + 1] = 'x' end},
			{key = 'B', label = 'Back', action = 'back'},
		}}
		local main = menu.new { title = 'MAIN', items = {
			{key = '1', label = 'One', action = function(conn, req, user) log[#log + 1] = 'one for ' .. user end},
			{key = 'S', label = 'Sysop only', action = function() log[#log + 1] = 'sysop!' end, level = 'sysop'},
			{key = 'M', label = 'More', menu = sub},
			{key = 'Q', label = 'Quit', action = 'quit'},
		}}
		local how
		req, how = menu.run(conn, req, 'ann', main)
		ui.display(conn, req, table.concat(log, ',') .. ' / ' .. how .. ' / ' .. tostring(menu.actions(main)['1'] ~= nil))
	`)
	e.run(t, `require 'ui'`)
	answers := []string{"1", "s", "zz", "m", "X", "b", " q "}
	if st, err := resume(e.L.GetGlobal("conn"), e.L.GetGlobal("req")); st != lua.ResumeYield || err != nil {
		t.Fatalf("start: %v %v", st, err)
	}
	for _, a := range answers[:len(answers)-1] {
		if st, err := resume(e.request("7", a)); st != lua.ResumeYield || err != nil {
			t.Fatalf("answer %q: %v %v", a, st, err)
		}
	}
	if st, err := resume(e.request("7", answers[len(answers)-1])); st != lua.ResumeOK || err != nil {
		t.Fatalf("last answer: %v %v", st, err)
	}
	msgs := e.replier.messages(t)
	if got := msgs[0]["msg"]; got != "---(((MAIN)))---\n1. One\nM. More\nQ. Quit" {
		t.Errorf("rendered menu = %q (the sysop item must be hidden)", got)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, strings.SplitN(m["msg"].(string), "\n", 2)[0])
	}
	// 1, s (hidden: refused), zz (unknown), m, X (in the submenu), b, q.
	want := "---(((MAIN)))---|---(((MAIN)))---|Oops.|---(((MAIN)))---|Oops.|---(((MAIN)))---|---(((SUB)))---|---(((SUB)))---|---(((MAIN)))---|one for ann,x / quit / true"
	if got := strings.Join(texts, "|"); got != want {
		t.Errorf("conversation:\n got %s\nwant %s", got, want)
	}
}

func TestMenuDeclarationErrors(t *testing.T) {
	for src, want := range map[string]string{
		`menu.new{}`: "items expected",
		`menu.new{items = {{label = 'no key', action = 'quit'}}}`:                        "has no key",
		`menu.new{items = {{key = 'a', action = 'quit'}, {key = 'A', action = 'back'}}}`: "used twice",
		`menu.new{items = {{key = 'a'}}}`:                                                "no action or menu",
	} {
		e := newTestEnv(t)
		err := e.runErr("local menu = require 'menu'\n\n" + src)
		// The script's line of the mistake, not menu.lua's.
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ":3: menu.new") {
			t.Errorf("%s: err = %v, want %q at line 3", src, err, want)
		}
	}
}
