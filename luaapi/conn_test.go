package luaapi

import (
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestConnReplyJSON(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `conn:reply_json(req, {type = 'screen', msg = 'hi "there"\n'})`)
	if len(e.replier.replies) != 1 {
		t.Fatalf("got %d replies, want 1", len(e.replier.replies))
	}
	rep := e.replier.replies[0]
	if rep.Sender != "sender-1" || !reflect.DeepEqual(rep.ConnIDs, []string{"7"}) {
		t.Errorf("reply went to %s %v, want sender-1 [7]", rep.Sender, rep.ConnIDs)
	}
	got := decodeFrame(t, rep.Body)
	if got["type"] != "screen" || got["msg"] != "hi \"there\"\n" {
		t.Errorf("message = %v", got)
	}
	if e.conn.Sent() != 1 || e.conn.Exited() {
		t.Errorf("Sent=%d Exited=%v, want 1 false", e.conn.Sent(), e.conn.Exited())
	}
	e.run(t, `conn:reply_json(nil, {type = 'exit', msg = 'bye'})`)
	if !e.conn.Exited() {
		t.Error("an exit message did not mark the conn exited")
	}
}

func TestConnReplyJSONSendsWhatTheScriptWrote(t *testing.T) {
	for _, table := range []string{
		`{type = 'screen', msg = 'x'}`,
		`{type = 'prompt', msg = 'Password?', pchar = ': ', secret = true}`,
		`{type = 'chat', msg = 5, pchar = '', secret = false, from = {name = 'ann', ids = {1, 2}}, [3] = 'three'}`,
		`{msg = ''}`, `{msg = 'x', [1] = 'one'}`,
	} {
		e := newTestEnv(t)
		e.run(t, `tbl = `+table+` conn:reply_json(req, tbl)`)
		want, err := AppendJSON(nil, e.L.GetGlobal("tbl"))
		if err != nil {
			t.Fatal(err)
		}
		m := e.replier.replies[0].Message
		if m == nil {
			t.Fatalf("%s: sent as bytes, not a message", table)
		}
		if got := m.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("%s: message %s, want %s", table, got, want)
		}
	}
	e := newTestEnv(t)
	if err := e.L.DoString(`conn:reply_json(req, {'a', 'list'})`); err == nil {
		t.Error("a list was sent as a message")
	}
}

func TestConnReplyToOtherRequest(t *testing.T) {
	e := newTestEnv(t)
	e.L.SetGlobal("other", e.request("42", "hi"))
	e.run(t, `conn:reply_json(other, {type = 'screen', msg = 'to 42'})`)
	if got := e.replier.replies[0].ConnIDs; !reflect.DeepEqual(got, []string{"42"}) {
		t.Errorf("reply went to %v, want [42]", got)
	}
	if e.conn.Sent() != 0 {
		t.Error("a reply to another caller counted as sent to this one")
	}
}

func TestConnDeliverJSON(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `n = conn:deliver_json({'3', 4, '5'}, {type = 'screen', msg = 'all'})`)
	if n := e.L.GetGlobal("n"); n != lua.LNumber(3) {
		t.Errorf("deliver_json returned %v, want 3", n)
	}
	rep := e.replier.replies[0]
	if !reflect.DeepEqual(rep.ConnIDs, []string{"3", "4", "5"}) {
		t.Errorf("delivered to %v", rep.ConnIDs)
	}
	if decodeFrame(t, rep.Body)["msg"] != "all" {
		t.Errorf("delivered %q", rep.Body)
	}
}

func TestConnReplyAndClose(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `conn:reply(req, 'plain bytes') conn:close(req)`)
	if got := string(e.replier.replies[0].Body); got != "plain bytes" {
		t.Errorf("reply body = %q", got)
	}
	if got := e.replier.replies[1].Body; len(got) != 0 {
		t.Errorf("close sent %q, want an empty body", got)
	}
	if !e.conn.Closed() {
		t.Error("conn:close did not mark the conn closed")
	}
	e.run(t, `assert(conn:id() == '7') assert(tostring(conn) == 'conn 7')`)
}

func TestConnMisuse(t *testing.T) {
	tests := []struct{ src, want string }{
		{`conn:reply_json(req, 'not a table')`, "table expected"},
		{`conn:reply_json(req, {f = print})`, "cannot encode a function"},
		{`conn:reply_json(42, {})`, "request table or nil expected"},
		{`conn.reply_json({}, req, {})`, "conn expected"},
		{`conn:reply(req, '')`, "use conn:close"},
		{`conn:deliver_json({true}, {})`, "conn id #1 is a boolean"},
		{`local t = {} t.t = t conn:reply_json(req, t)`, "nested too deep"},
		{`getmetatable(conn).__index = nil`, "attempt to index"},
	}
	for _, tt := range tests {
		e := newTestEnv(t)
		err := e.runErr(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestConnReplierFailure(t *testing.T) {
	e := newTestEnv(t)
	e.replier.failWith = errDiskFull
	err := e.runErr(`conn:reply_json(req, {type = 'screen', msg = 'x'})`)
	if err == nil || !strings.Contains(err.Error(), "conn:reply_json: disk full") {
		t.Errorf("err = %v, want the replier's error", err)
	}
}

// TestAPromptAskingForAPasswordIsSecret: a script's own prompt that asks
// for a password (the 2010 board's ui.lua never says secret = true) is
// marked secret, so its answer is kept out of the journal and the log;
// secret = false, or a prompt that asks for something else, is not.
func TestAPromptAskingForAPasswordIsSecret(t *testing.T) {
	for _, c := range []struct {
		table  string
		secret bool
	}{
		{`{type = 'prompt', msg = "What's your password?"}`, true},
		{`{type = 'prompt', msg = "Type your PASSWORD again and make it match."}`, true},
		{`{type = 'prompt', msg = "Passphrase:", pchar = '*'}`, true},
		{`{type = 'prompt', msg = "Forgot your password? (y/n)", secret = false}`, false},
		{`{type = 'prompt', msg = "What's your name?"}`, false},
		{`{type = 'prompt', msg = "P) Change your password\nQ) Quit\nChoose: "}`, false},
		{`{type = 'prompt', msg = "Welcome!\nYour password, please:\n\n"}`, true},
		{`{type = 'screen', msg = "Your password was changed."}`, false},
	} {
		e := newTestEnv(t)
		e.run(t, `conn:reply_json(req, `+c.table+`)`)
		m := e.replier.replies[0].Message
		if m == nil {
			t.Fatalf("%s: sent as bytes, not a message", c.table)
		}
		if m.Secret != c.secret || e.conn.PromptSecret() != (c.secret && m.Type == KindPrompt) {
			t.Errorf("%s: secret %v (conn says %v), want %v", c.table, m.Secret, e.conn.PromptSecret(), c.secret)
		}
	}
}

// TestOnlyScreensAskingForAPasswordAreSecret: ui.prompt marks a screen
// whose question asks for a password secret, as ui.secret does; ui.ask,
// whose text is often what callers wrote, never guesses.
func TestOnlyScreensAskingForAPasswordAreSecret(t *testing.T) {
	for _, c := range []struct {
		call   string
		secret bool
	}{
		{`require('ui').prompt(conn, req, 'password')`, true},
		{`require('ui').prompt(conn, req, 'name')`, false},
		{`require('ui').ask(conn, req, 'A post by ann:\nRemember to change your password')`, false},
	} {
		e := newTestEnv(t)
		if st, err := e.coroutine(t, c.call)(); err != nil || st != lua.ResumeYield {
			t.Fatalf("%s: %v %v", c.call, st, err)
		}
		if got := e.conn.PromptSecret(); got != c.secret {
			t.Errorf("%s: secret %v, want %v", c.call, got, c.secret)
		}
	}
}
