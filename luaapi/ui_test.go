package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestUIMessages(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		require 'ui'
		ui.display(conn, req, 'plain text')
		ui.screen(conn, req, 'hello')
		ui.exit(conn, req, 'bye')
		assert(ui.text('hello') == 'Hello there.')
		local text, err = ui.text('nope')
		assert(text == nil and err:find('no such screen'))
	`)
	got := e.replier.messages(t)
	want := []map[string]any{
		{"type": "screen", "msg": "plain text"},
		{"type": "screen", "msg": "Hello there."},
		{"type": "exit", "msg": "Bye now."},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("message %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
	if !e.conn.Exited() {
		t.Error("ui.exit did not mark the conn exited")
	}
}

func TestUIAskYieldsAndReturnsTheNextRequest(t *testing.T) {
	e := newTestEnv(t)
	resume := e.coroutine(t, `
		local conn, req = ...
		req = ui.prompt(conn, req, 'name')
		local name = req.data.msg
		req = ui.ask(conn, req, 'Hi ' .. name .. ', favourite colour?', '? ')
		ui.display(conn, req, name .. ' likes ' .. req.data.msg)
	`)
	e.run(t, `require 'ui'`)
	if st, err := resume(e.L.GetGlobal("conn"), e.L.GetGlobal("req")); st != lua.ResumeYield || err != nil {
		t.Fatalf("first resume: %v %v, want a yield", st, err)
	}
	if st, err := resume(e.request("7", "Ann")); st != lua.ResumeYield || err != nil {
		t.Fatalf("second resume: %v %v, want a yield", st, err)
	}
	if st, err := resume(e.request("7", "green")); st != lua.ResumeOK || err != nil {
		t.Fatalf("last resume: %v %v, want the end", st, err)
	}
	msgs := e.replier.messages(t)
	if len(msgs) != 3 {
		t.Fatalf("got %d messages: %v", len(msgs), msgs)
	}
	if msgs[0]["type"] != "prompt" || msgs[0]["msg"] != "What's your name?" || msgs[0]["pchar"] != DefaultPromptChar {
		t.Errorf("prompt = %v", msgs[0])
	}
	if msgs[1]["msg"] != "Hi Ann, favourite colour?" || msgs[1]["pchar"] != "? " {
		t.Errorf("ask = %v", msgs[1])
	}
	if msgs[2]["msg"] != "Ann likes green" {
		t.Errorf("display = %v", msgs[2])
	}
}

func TestUIAskInsideGoCallbackIsRefused(t *testing.T) {
	e := newTestEnv(t)
	resume := e.coroutine(t, `
		local conn, req = ...
		local t = {3, 1, 2}
		table.sort(t, function(a, b) ui.ask(conn, req, 'which?') return a < b end)
	`)
	e.run(t, `require 'ui'`)
	st, err := resume(e.L.GetGlobal("conn"), e.L.GetGlobal("req"))
	if st != lua.ResumeError || err == nil || !strings.Contains(err.Error(), "cannot wait for the caller inside") {
		t.Fatalf("resume = %v %v, want a clear error", st, err)
	}
}

func TestUIMissingScreen(t *testing.T) {
	e := newTestEnv(t)
	err := e.runErr(`require 'ui' ui.screen(conn, req, 'nope')`)
	if err == nil || !strings.Contains(err.Error(), `screen "nope"`) {
		t.Errorf("err = %v, want it to name the screen", err)
	}
	if len(e.replier.replies) != 0 {
		t.Error("a missing screen still sent something")
	}
}

func TestUISecretMarksThePromptAndWaits(t *testing.T) {
	e := newTestEnv(t)
	resume := e.coroutine(t, `
		local conn, req = ...
		req = ui.secret(conn, req, 'hello')
		ui.display(conn, req, 'got ' .. req.data.msg)
		req = ui.prompt(conn, req, 'hello')
	`)
	e.run(t, `require 'ui'`)
	if st, err := resume(e.L.GetGlobal("conn"), e.L.GetGlobal("req")); st != lua.ResumeYield || err != nil {
		t.Fatalf("first resume: %v %v, want a yield", st, err)
	}
	if st, err := resume(e.request("7", "hunter2")); st != lua.ResumeYield || err != nil {
		t.Fatalf("second resume: %v %v, want a yield", st, err)
	}
	got := e.replier.messages(t)
	if len(got) != 3 {
		t.Fatalf("got %v, want a secret prompt, a screen and a plain prompt", got)
	}
	if got[0]["type"] != "prompt" || got[0]["secret"] != true || got[0]["msg"] != "Hello there." {
		t.Errorf("secret prompt = %v", got[0])
	}
	if got[1]["msg"] != "got hunter2" {
		t.Errorf("answer = %v", got[1])
	}
	if _, marked := got[2]["secret"]; marked || got[2]["type"] != "prompt" {
		t.Errorf("plain prompt = %v, want no secret field", got[2])
	}
}
