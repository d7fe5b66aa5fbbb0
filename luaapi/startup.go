package luaapi

import (
	"errors"
	"os"
	"regexp"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// The 2010 board's start-up. Its bbs.lua ends by connecting to Mongrel2
// itself and running a receive loop:
//
//	local ctx = mongrel2.new(config.io_threads)
//	local conn = ctx:new_connection(config.sender_id, config.sub_addr, config.pub_addr)
//	engine.run(conn, m2bbs)
//
// On m2bbs the host holds the connection to the front end and runs one
// coroutine per caller, so the built-in mongrel2 module hands back a
// stand-in connection and the built-in engine module's run installs the
// entry function and returns at once: the main script's load then ends
// as any other does.

// Startup is what the host gives the start-up of a main script written
// for Mongrel2's own Lua library.
type Startup interface {
	// InstallEntry makes entry the main script's entry function. It fails
	// when no main script is loading (inside a caller's session).
	InstallEntry(L *lua.LState, entry *lua.LFunction) error
	// StopLoad ends the main script's load at once, with why as its
	// error: a receive loop at load time would never end. Inside a
	// caller's session it does nothing.
	StopLoad(L *lua.LState, why string)
}

// errStartupConn is what the stand-in connection answers to a reply: no
// caller is behind it.
var errStartupConn = errors.New("no caller on this connection: mongrel2's new_connection gives it for the start-up; each caller's entry function gets their own conn")

// startupReplier is the replier of the stand-in connection: it refuses
// everything.
type startupReplier struct{}

func (startupReplier) Reply(string, []string, []byte) error { return errStartupConn }

func (startupReplier) SendMessage(string, []string, message.Message) error { return errStartupConn }

// Mongrel2 is the built-in mongrel2 module: the part of Mongrel2's Lua
// library a 2010 main script calls at start-up.
type Mongrel2 struct {
	// Log gives the logger of the code running on L.
	Log LoggerLookup
}

// Loader opens the mongrel2 module.
func (m *Mongrel2) Loader(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"new": m.new}))
	return 1
}

// mongrel2.new([io_threads]): a context whose new_connection gives the
// stand-in connection. io_threads is not used: the host has its own.
func (m *Mongrel2) new(L *lua.LState) int {
	L.OptInt(1, 1)
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"new_connection": m.newConnection,
		"term":           func(*lua.LState) int { return 0 },
	}))
	return 1
}

// ctx:new_connection(sender_id, sub_addr, pub_addr): the stand-in
// connection, a conn with no caller. The host is connected already, with
// its own settings: these are logged and not used.
func (m *Mongrel2) newConnection(L *lua.LState) int {
	sender, sub, pub := L.OptString(2, ""), L.OptString(3, ""), L.OptString(4, "")
	if m.Log != nil {
		m.Log(L).Info("mongrel2.new_connection: the host holds the connection to the front end; the script's settings are not used",
			"sender_id", sender, "sub_addr", sub, "pub_addr", pub)
	}
	L.Push(NewConnValue(L, NewConn("", sender, startupReplier{})))
	return 1
}

// Engine is the built-in engine module: engine.run(conn, entry) installs
// entry as the main script's entry function and returns.
type Engine struct {
	// Startup installs the entry; engine.run raises an error when nil.
	Startup Startup
	// Log gives the logger of the code running on L.
	Log LoggerLookup
}

// Loader opens the engine module.
func (e *Engine) Loader(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"run": e.run}))
	return 1
}

// engine.run(conn, entry): entry becomes the main script's entry, as if
// the script returned it; conn is not used (each caller's entry gets
// their own). Returns nothing, at once.
func (e *Engine) run(L *lua.LState) int {
	entry := L.CheckFunction(2)
	if e.Startup == nil {
		L.RaiseError("engine.run: this Lua state runs no main script")
	}
	if err := e.Startup.InstallEntry(L, entry); err != nil {
		L.RaiseError("engine.run: %v", err)
	}
	return 0
}

// receiveLoop matches a script that receives from Mongrel2 itself: it
// calls conn:recv or conn:recv_json (or names conn.recv_json).
var receiveLoop = regexp.MustCompile(`[.:]\s*recv(_json)?\b`)

// IsReceiveLoop reports whether src, an engine.lua, is a Mongrel2 receive
// loop such as the 2010 board's: the host's built-in engine replaces it.
func IsReceiveLoop(src []byte) bool { return receiveLoop.Match(src) }

// engineModule is the require name of the engine module.
const engineModule = "engine"

// installEngineSearcher puts a searcher before require's file loader: a
// scripts-folder engine.lua that is a Mongrel2 receive loop gives way to
// the built-in engine module, with a log line saying so; any other
// engine.lua loads as usual.
func (e *Engine) installEngineSearcher(L *lua.LState) {
	loaders, ok := L.GetField(L.GetGlobal("package"), "loaders").(*lua.LTable)
	if !ok {
		return
	}
	L.Push(L.GetField(L.GetGlobal("table"), "insert"))
	L.Push(loaders)
	L.Push(lua.LNumber(2))
	L.Push(L.NewFunction(e.searcher))
	L.Call(3, 0)
}

// searcher is the package.loaders entry of installEngineSearcher.
func (e *Engine) searcher(L *lua.LState) int {
	if L.CheckString(1) != engineModule {
		L.Push(lua.LString(""))
		return 1
	}
	path, _ := searchPath(L, engineModule)
	if path == "" {
		L.Push(lua.LString(""))
		return 1
	}
	src, err := os.ReadFile(path)
	if err != nil || !IsReceiveLoop(src) {
		L.Push(lua.LString("")) // the file loader reads it, or says why not
		return 1
	}
	if e.Log != nil {
		e.Log(L).Info("engine.lua is a Mongrel2 receive loop: the host's built-in engine is used instead (the host receives each caller's lines)", "file", path)
	}
	L.Push(L.NewFunction(func(L *lua.LState) int {
		e.Loader(L)
		mod := L.Get(-1)
		// As a built-in module is (see InstallModules): also a global.
		if globals := L.Get(lua.GlobalsIndex).(*lua.LTable); globals.RawGetString(engineModule) == lua.LNil {
			globals.RawSetString(engineModule, mod)
		}
		return 1
	}))
	return 1
}

// connRecv is conn:recv_json() and conn:recv(): in a caller's coroutine,
// waits for the caller's next request and returns it, as
// coroutine.yield() does in the 2010 entry. On the start-up connection
// it ends the main script's load with an error instead: a receive loop
// there would spin for ever, the host receives for it.
func connRecv(name string) lua.LGFunction {
	return func(L *lua.LState) int {
		c := checkConn(L, 1)
		if _, startup := c.replier.(startupReplier); startup {
			why := "conn:" + name + " at start-up: the host receives each caller's lines and passes them to the entry function; install it with engine.run(conn, entry) or return it from the main script"
			if s, ok := startupOf(L); ok {
				s.StopLoad(L, why)
			}
			L.RaiseError("%s", why)
		}
		return waitForCaller(L, "conn:"+name)
	}
}

// startupKey holds the Startup of a state in its registry.
const startupKey = "m2bbs.startup"

// setStartup keeps s in L's registry for connRecv.
func setStartup(L *lua.LState, s Startup) {
	if s != nil {
		ud := L.NewUserData()
		ud.Value = s
		L.SetField(L.Get(lua.RegistryIndex), startupKey, ud)
	}
}

// startupOf returns the Startup kept in L's registry.
func startupOf(L *lua.LState) (Startup, bool) {
	ud, ok := L.GetField(L.Get(lua.RegistryIndex), startupKey).(*lua.LUserData)
	if !ok {
		return nil, false
	}
	s, ok := ud.Value.(Startup)
	return s, ok
}
