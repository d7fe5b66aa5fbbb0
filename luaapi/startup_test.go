package luaapi

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// fakeStartup records what engine.run and a receive at start-up ask of
// the host.
type fakeStartup struct {
	installed []*lua.LFunction
	refuse    error
	stopped   []string
}

func (f *fakeStartup) InstallEntry(_ *lua.LState, entry *lua.LFunction) error {
	if f.refuse != nil {
		return f.refuse
	}
	f.installed = append(f.installed, entry)
	return nil
}

func (f *fakeStartup) StopLoad(_ *lua.LState, why string) { f.stopped = append(f.stopped, why) }

// newStartupEnv is newTestEnv with a scripts folder and a Startup.
func newStartupEnv(t *testing.T, scripts string, startup Startup) *testEnv {
	t.Helper()
	e := &testEnv{L: lua.NewState(), replier: &recordingReplier{}, store: newMemStore(), logs: &strings.Builder{}}
	t.Cleanup(e.L.Close)
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	err := New(Deps{
		Screens: screenMap{}, Store: e.store, ScriptsDir: scripts, Startup: startup,
		Log: func(*lua.LState) *slog.Logger { return log },
	}).Open(e.L)
	if err != nil {
		t.Fatal(err)
	}
	e.L.SetField(e.L.GetGlobal("package"), "path", lua.LString(scripts+"/?.lua;"+lua.LVAsString(e.L.GetField(e.L.GetGlobal("package"), "path"))))
	e.conn = NewConn("7", "sender-1", e.replier)
	e.L.SetGlobal("conn", NewConnValue(e.L, e.conn))
	return e
}

// The 2010 start-up block, as a test of its own words: a context, a
// connection from it, and the engine run with the entry.
const startupBlock = `
local m2 = require 'mongrel2'
local engine = require 'engine'
function entry(conn) end
local ctx = mongrel2.new(1)
local c = ctx:new_connection('d1e9-sender', 'tcp://127.0.0.1:9995', 'tcp://127.0.0.1:9994')
assert(m2 == mongrel2)
assert(getmetatable(c) == 'conn', 'the stand-in is a conn')
engine.run(c, entry)
ran_to_the_end = true
`

func TestEngineRunInstallsTheEntryAndReturns(t *testing.T) {
	startup := &fakeStartup{}
	e := newStartupEnv(t, t.TempDir(), startup)
	e.run(t, startupBlock)
	if e.L.GetGlobal("ran_to_the_end") != lua.LTrue {
		t.Error("engine.run did not return")
	}
	if len(startup.installed) != 1 || startup.installed[0] != e.L.GetGlobal("entry") {
		t.Errorf("installed %v, want the script's entry", startup.installed)
	}
	if !strings.Contains(e.logs.String(), "mongrel2.new_connection") || !strings.Contains(e.logs.String(), "sender_id=d1e9-sender") {
		t.Errorf("the log does not say the script's connection settings are not used:\n%s", e.logs)
	}
}

func TestEngineRunRefusals(t *testing.T) {
	startup := &fakeStartup{refuse: errors.New("not while a caller is online")}
	e := newStartupEnv(t, t.TempDir(), startup)
	err := e.runErr(`require('engine').run(conn, function() end)`)
	if err == nil || !strings.Contains(err.Error(), "engine.run: not while a caller is online") {
		t.Errorf("refused install: %v", err)
	}
	if err := e.runErr(`require('engine').run(conn, 'm2bbs')`); err == nil || !strings.Contains(err.Error(), "function expected") {
		t.Errorf("an entry that is not a function: %v", err)
	}
	bare := newStartupEnv(t, t.TempDir(), nil)
	if err := bare.runErr(`require('engine').run(conn, function() end)`); err == nil || !strings.Contains(err.Error(), "runs no main script") {
		t.Errorf("engine.run without a host: %v", err)
	}
}

func TestStandInConnHasNoCaller(t *testing.T) {
	startup := &fakeStartup{}
	e := newStartupEnv(t, t.TempDir(), startup)
	e.run(t, `c = require('mongrel2').new():new_connection('s', 'a', 'b')`)
	err := e.runErr(`c:reply_json(nil, {type = 'screen', msg = 'hello'})`)
	if err == nil || !strings.Contains(err.Error(), "no caller on this connection") {
		t.Errorf("reply on the stand-in: %v", err)
	}
	if len(e.replier.replies) != 0 {
		t.Errorf("a reply went out: %v", e.replier.replies)
	}
	// The 2010 engine's loop: a receive under pcall, for ever. The first
	// receive fails and asks the host to stop the load.
	e.run(t, `ok, err = pcall(c.recv_json, c)`)
	if e.L.GetGlobal("ok") != lua.LFalse || !strings.Contains(e.L.GetGlobal("err").String(), "conn:recv_json at start-up") {
		t.Errorf("recv_json on the stand-in: %v %v", e.L.GetGlobal("ok"), e.L.GetGlobal("err"))
	}
	if len(startup.stopped) != 1 || !strings.Contains(startup.stopped[0], "engine.run(conn, entry)") {
		t.Errorf("the load was not stopped: %q", startup.stopped)
	}
}

func TestRecvJSONWaitsForTheCallersNextLine(t *testing.T) {
	e := newStartupEnv(t, t.TempDir(), &fakeStartup{})
	resume := e.coroutine(t, `
		local conn = ...
		local req = conn:recv_json()
		conn:reply_json(req, {type = 'screen', msg = 'got ' .. req.data.msg})
		req = conn:recv()
		conn:reply_json(req, {type = 'exit', msg = 'then ' .. req.data.msg})`)
	for i, step := range []struct {
		arg   lua.LValue
		state lua.ResumeState
	}{
		{e.L.GetGlobal("conn"), lua.ResumeYield},
		{e.request("7", "hello"), lua.ResumeYield},
		{e.request("7", "bye"), lua.ResumeOK},
	} {
		if st, err := resume(step.arg); st != step.state || err != nil {
			t.Fatalf("resume %d: state %v, err %v", i, st, err)
		}
	}
	msgs := e.replier.messages(t)
	if len(msgs) != 2 || msgs[0]["msg"] != "got hello" || msgs[1]["msg"] != "then bye" {
		t.Errorf("replies %v", msgs)
	}
}

func TestEngineLuaReceiveLoopGivesWayToTheBuiltIn(t *testing.T) {
	scripts := t.TempDir()
	// A receive loop in the 2010 engine's shape, in this test's words.
	writeFile(t, filepath.Join(scripts, "engine.lua"), `file_engine_loaded = true
module 'engine'
function run(conn, entry)
  while true do
    local ok, req = pcall(conn.recv_json, conn)
  end
end`)
	startup := &fakeStartup{}
	e := newStartupEnv(t, scripts, startup)
	e.run(t, startupBlock)
	if e.L.GetGlobal("file_engine_loaded") != lua.LNil {
		t.Error("the receive loop's file was run")
	}
	if len(startup.installed) != 1 {
		t.Errorf("the built-in engine did not install the entry: %v", startup.installed)
	}
	if !strings.Contains(e.logs.String(), "engine.lua is a Mongrel2 receive loop") {
		t.Errorf("no log line says the file was replaced:\n%s", e.logs)
	}
}

func TestSysopsOwnEngineLuaLoads(t *testing.T) {
	scripts := t.TempDir()
	writeFile(t, filepath.Join(scripts, "engine.lua"), `module('engine', package.seeall)
function horsepower() return 300 end`)
	e := newStartupEnv(t, scripts, &fakeStartup{})
	e.run(t, `local engine = require 'engine'
		assert(engine.horsepower() == 300)
		assert(engine.run == nil, 'the built-in engine shadowed the file')`)
	if strings.Contains(e.logs.String(), "receive loop") {
		t.Errorf("a sysop's engine.lua was taken for a receive loop:\n%s", e.logs)
	}
}

func TestIsReceiveLoop(t *testing.T) {
	for src, want := range map[string]bool{
		"local ok, req = pcall(conn.recv_json, conn)": true,
		"local req = conn:recv_json()":                true,
		"local req = conn:recv()":                     true,
		"local req = conn : recv_json ()":             true,
		"function run(conn, entry) end":               false,
		"local receiver = 'recv_json'":                false,
		"local n = conn:recv_count()":                 false,
	} {
		if got := IsReceiveLoop([]byte(src)); got != want {
			t.Errorf("IsReceiveLoop(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestLoadfileFindsRelativePathsInTheScriptsFolder(t *testing.T) {
	scripts := t.TempDir()
	// The 2010 config.lua's shape: plain assignments.
	writeFile(t, filepath.Join(scripts, "config.lua"), "sender_id = 'abc'\nio_threads = 1\n")
	writeFile(t, filepath.Join(scripts, "more.lua"), "return 42\n")
	e := newStartupEnv(t, scripts, &fakeStartup{})
	e.run(t, `
		local config = {}
		setfenv(assert(loadfile('config.lua')), config)()
		assert(config.sender_id == 'abc' and config.io_threads == 1, 'config not read')
		assert(rawget(_G, 'sender_id') == nil, 'config leaked into globals')
		assert(dofile('more.lua') == 42)
		-- Not in the scripts folder: the working directory, as before.
		assert(loadfile('testdata/compat/sandboxed.lua'))
		local f, err = loadfile('nowhere.lua')
		assert(f == nil and err:find('nowhere.lua'), err)`)
}
