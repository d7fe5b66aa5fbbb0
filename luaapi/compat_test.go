package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestPcallCanBeYieldedAcross(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `require 'ui'`)
	resume := e.coroutine(t, `
		local conn, req = ...
		local ok, answer = pcall(function()
			local r = ui.ask(conn, req, 'inside pcall?')
			return r.data.msg
		end)
		local ok1, tail = pcall(function() return ui.ask(conn, req, 'tail call in pcall?') end)
		assert(ok1 and tail.data.msg == 'tail', 'a tail-called ui.ask inside pcall')
		local ok2, err = pcall(function()
			ui.ask(conn, req, 'and now fail')
			error('boom', 0)
		end)
		local ok3, handled = xpcall(function() error('x') end, function(m) return 'handled: ' .. m end)
		ui.display(conn, req, table.concat({tostring(ok), answer, tostring(ok2), err, tostring(ok3), handled}, '|'))
	`)
	for i, arg := range [][]lua.LValue{
		{e.L.GetGlobal("conn"), e.L.GetGlobal("req")},
		{e.request("7", "yes")},
		{e.request("7", "tail")},
	} {
		if st, err := resume(arg...); st != lua.ResumeYield || err != nil {
			t.Fatalf("resume %d: %v %v, want a yield", i, st, err)
		}
	}
	if st, err := resume(e.request("7", "ignored")); st != lua.ResumeOK || err != nil {
		t.Fatalf("last resume: %v %v", st, err)
	}
	msgs := e.replier.messages(t)
	got := msgs[len(msgs)-1]["msg"].(string)
	if !strings.HasPrefix(got, "true|yes|false|boom|false|handled: ") {
		t.Errorf("pcall results = %q", got)
	}
}

func TestPcallPlainUse(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		assert(select('#', pcall(function() return 1, nil, 3 end)) == 4)
		local ok, err = pcall(error, {code = 1})
		assert(not ok and err.code == 1)
		local ok, err = pcall(nil)
		assert(not ok)
		assert(pcall(function(a, b) return a + b == 5 end, 2, 3))
		local ok, s = pcall(tostring, 5)
		assert(ok and s == '5', 'pcall of a Go function')
		local ok, err = pcall(error, 'go error')
		assert(not ok and err:find('go error'), err)
		package.preload.thing = function() return {x = 1} end
		local ok, mod = pcall(require, 'thing')
		assert(ok and mod.x == 1, 'pcall(require, name)')
	`)
}

func TestDebugGetinfoLikeLua51(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		assert(debug.getinfo(print).what == 'C', 'Go function')
		local function f() return debug.getinfo(1, 'S').what end
		assert(f() == 'Lua', 'Lua function: ' .. f())
		assert(debug.getinfo(1, 'S').what == 'main', 'chunk top level')
		local chunk = loadstring("return debug.getinfo(1, 'S').what")
		assert(chunk() == 'main', 'loaded chunk')
		assert(debug.getinfo(100) == nil)
		local info = debug.getinfo(1, 'l')
		assert(info.currentline == 9, 'currentline ' .. tostring(info.currentline))
	`)
}

func TestStrictLua(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `package.path = '../scripts/?.lua;' .. package.path`)
	e.run(t, `
		require 'strict'
		declared_at_top = 1
		local function f() return declared_at_top end
		assert(f() == 1)
		require 'ui'
		assert(ui.display ~= nil, 'built-in modules stay reachable')
	`)
	for _, tt := range []struct{ src, want string }{
		{`local function f() return never_declared end f()`, "undeclared global 'never_declared'"},
		{`local function f() sneaky = 1 end f()`, "assignment to undeclared global 'sneaky'"},
	} {
		if err := e.runErr(tt.src); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.src, err, tt.want)
		}
	}
	// Globals assigned at the top of a required module are declared too.
	e.run(t, `package.path = 'testdata/compat/?.lua;' .. package.path
		require 'greeter'
		local function f() return greeter.greet('Zed') end
		assert(f() == 'Hello, Zed!')`)
}

func TestModuleSetfenvLoadfile(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		package.path = 'testdata/compat/?.lua;' .. package.path
		require 'greeter'
		assert(greeter.greet('Ann') == 'Hello, Ann!')
		greeter.GREETING = 'Howdy'
		assert(greeter.greet('Ann') == 'Howdy, Ann!')

		local chunk = assert(loadfile('testdata/compat/sandboxed.lua'))
		local env = {who = 'Bob'}
		setfenv(chunk, env)
		chunk()
		assert(env.answer == 'Bob says hi')
		assert(rawget(_G, 'answer') == nil, 'leaked into globals')
		assert(getfenv(chunk) == env)
	`)
}

func TestScriptModuleOverridesBuiltin(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	writeFile(t, dir+"/ui.lua", `module 'ui'
function display(conn, req, text) conn:reply_json(req, {type = 'screen', msg = 'custom: ' .. text}) end`)
	e.run(t, `package.path = '`+dir+`/?.lua;' .. package.path
		require 'ui'
		ui.display(conn, req, 'x')`)
	if got := e.replier.messages(t)[0]["msg"]; got != "custom: x" {
		t.Errorf("display went to the built-in ui: %v", got)
	}
}

func TestPrintGoesToTheLog(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `print('message:', 42, nil)`)
	got := e.logs.String()
	for _, want := range []string{`msg="lua print"`, `conn_id=7`, `text="message:\t42\tnil"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %s", got, want)
		}
	}
}

func TestOSExitDoesNotStopTheHost(t *testing.T) {
	e := newTestEnv(t)
	err := e.runErr(`os.exit(1)`)
	if err == nil || !strings.Contains(err.Error(), "os.exit would stop the BBS") {
		t.Fatalf("err = %v", err)
	}
}

func TestStringRepIsBounded(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `assert(string.rep('ab', 3) == 'ababab') assert(string.rep('x', 0) == '') assert(('-'):rep(2) == '--')`)
	err := e.runErr(`local s = string.rep('x', 1e10)`)
	if err == nil || !strings.Contains(err.Error(), "result too large") {
		t.Fatalf("err = %v", err)
	}
}
