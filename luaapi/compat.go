package luaapi

import (
	"log/slog"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// yieldSafePcall replaces pcall and xpcall with versions that run the
// protected function in a coroutine of its own and pass its yields through.
// gopher-lua's own pcall cannot be yielded across: a ui.ask inside it would
// return at once and corrupt the caller's coroutine. Errors and return
// values behave as in Lua 5.1.
const yieldSafePcall = `
local chunk_name = ...
local co_create, co_resume, co_status, co_yield = coroutine.create, coroutine.resume, coroutine.status, coroutine.yield
local select, type, unpack, sub, find = select, type, unpack, string.sub, string.find
local raw_pcall = pcall

local function pack(...) return { n = select('#', ...), ... } end

local function run(co, ...)
  local r = pack(co_resume(co, ...))
  while true do
    if not r[1] then return false, r[2] end
    if co_status(co) == 'dead' then return true, unpack(r, 2, r.n) end
    r = pack(co_resume(co, co_yield(unpack(r, 2, r.n))))
  end
end

local getinfo = debug.getinfo
-- Go functions (error, require, tostring...) run under the plain pcall: a
-- coroutine cannot start on one, and they do not wait for callers (ui.ask
-- refuses to under a Go frame, with a clear error).
local function plain(f)
  if type(f) ~= 'function' then return true end
  local what = getinfo(f, 'S').what
  return what == 'G' or what == 'C'
end
-- f is called in non-tail position: gopher-lua loses a yield from a Go
-- function that a coroutine's first function tail-calls.
local function start(f)
  return co_create(function(...)
    local r = pack(f(...))
    return unpack(r, 1, r.n)
  end)
end
-- A Go function's error under the plain pcall names a line of this chunk
-- (gopher-lua names the first Lua function up the stack): in Lua 5.1 it
-- names none, the function that called it being pcall.
local function unplace(ok, ...)
  if ok then return ok, ... end
  local err = ...
  if type(err) == 'string' and sub(err, 1, #chunk_name + 1) == chunk_name .. ':' then
    local _, e = find(err, ': ', #chunk_name + 2, true)
    if e then err = sub(err, e + 1) end
  end
  return false, err
end
function pcall(f, ...)
  if plain(f) then return unplace(raw_pcall(f, ...)) end
  return run(start(f), ...)
end
function xpcall(f, handler)
  local r
  if plain(f) then r = pack(unplace(raw_pcall(f))) else r = pack(run(start(f))) end
  if r[1] then return unpack(r, 1, r.n) end
  return false, (handler(r[2])) -- one value, as in Lua 5.1
end
return run
`

// pcallChunkName names the yield-safe pcall's chunk in stack traces.
const pcallChunkName = "m2bbs-pcall"

// OpenCompat makes gopher-lua behave like Lua 5.1 where scripts written for
// the original BBS notice the difference: pcall and xpcall can be yielded
// across, and debug.getinfo reports "C" for Go functions and "main" for a
// chunk's top level (what strict.lua relies on). os.exit raises an error
// instead of ending the host, and the built-ins whose cost has no bound
// (string.rep, unpack...) refuse results past MaxStringBytes or MaxResults.
func OpenCompat(L *lua.LState) error {
	top := L.GetTop()
	chunk, err := L.Load(strings.NewReader(yieldSafePcall), pcallChunkName)
	if err != nil {
		return err
	}
	L.Push(chunk)
	L.Push(lua.LString(pcallChunkName))
	if err := L.PCall(1, 1, nil); err != nil {
		return err
	}
	// run is how a yield passes through pcall: offload.go looks for it.
	L.SetField(L.Get(lua.RegistryIndex), pcallRunKey, L.Get(top+1))
	L.SetTop(top)
	if debug, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		L.SetField(debug, "getinfo", L.NewFunction(debugGetInfo))
	}
	// Built-ins that could run for ever in one call, or build strings
	// without bound, are replaced by bounded ones (bounded.go).
	openBounded(L)
	// error and assert name the positions Lua 5.1 names (errorlevel.go).
	openErrorPositions(L, newPlumbing(chunk.Proto))
	openBoundedLoaders(L)
	// gopher-lua's os.exit ends the whole process: every caller at once.
	if osLib, ok := L.GetGlobal("os").(*lua.LTable); ok {
		L.SetField(osLib, "exit", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("os.exit would stop the BBS for every caller; return from the entry function (or call ui.exit) to end this caller's session")
			return 0
		}))
	}
	return nil
}

// debugGetInfo is debug.getinfo with Lua 5.1's "what": "C" for Go
// functions, "main" for a chunk's top level, "Lua" for other functions.
func debugGetInfo(L *lua.LState) int {
	L.CheckTypes(1, lua.LTFunction, lua.LTNumber)
	what := L.OptString(2, "Slunf")
	query := what
	if !strings.Contains(query, "f") {
		query += "f"
	}
	var dbg *lua.Debug
	var fn lua.LValue
	var err error
	switch arg := L.Get(1).(type) {
	case *lua.LFunction:
		dbg = &lua.Debug{}
		fn, err = L.GetInfo(">"+query, dbg, arg)
	case lua.LNumber:
		var ok bool
		if dbg, ok = L.GetStack(int(arg)); !ok {
			L.Push(lua.LNil)
			return 1
		}
		fn, err = L.GetInfo(query, dbg, lua.LNil)
	}
	if err != nil {
		L.Push(lua.LNil)
		return 1
	}
	tbl := L.NewTable()
	if dbg.Name != "" {
		tbl.RawSetString("name", lua.LString(dbg.Name))
	}
	if strings.Contains(what, "S") {
		tbl.RawSetString("what", lua.LString(whatOf(fn, dbg.What)))
		tbl.RawSetString("source", lua.LString(dbg.Source))
		tbl.RawSetString("short_src", lua.LString(dbg.Source))
		tbl.RawSetString("linedefined", lua.LNumber(dbg.LineDefined))
		tbl.RawSetString("lastlinedefined", lua.LNumber(dbg.LastLineDefined))
	}
	if strings.Contains(what, "l") {
		tbl.RawSetString("currentline", lua.LNumber(dbg.CurrentLine))
	}
	if strings.Contains(what, "u") {
		tbl.RawSetString("nups", lua.LNumber(dbg.NUpvalues))
	}
	if strings.Contains(what, "f") {
		tbl.RawSetString("func", fn)
	}
	L.Push(tbl)
	return 1
}

// whatOf maps gopher-lua's "what" to Lua 5.1's.
func whatOf(fn lua.LValue, what string) string {
	f, ok := fn.(*lua.LFunction)
	switch {
	case !ok || f.IsG:
		return "C"
	case what == "tail":
		return "tail"
	case f.Proto != nil && f.Proto.LineDefined == 0:
		return "main"
	default:
		return "Lua"
	}
}

// LoggerLookup returns the logger for the code running on L: the session's
// logger (carrying its conn_id) inside a caller's coroutine.
type LoggerLookup func(L *lua.LState) *slog.Logger

// OpenPrint replaces print with one that writes to the host's log: each
// call is one log record whose msg is the arguments joined by tabs, as Lua
// prints them, on the logger that lookup returns for the running coroutine.
func OpenPrint(L *lua.LState, lookup LoggerLookup) {
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		lookup(L).Info("lua print", "text", b.String())
		return 0
	}))
}

// Module is a built-in Lua module: its require name and loader.
type Module struct {
	Name   string
	Loader lua.LGFunction
}

// InstallModules makes the built-in modules loadable with require, after
// package.preload and package.path: a file of the same name among the
// scripts (say a script-side ui.lua) takes precedence over the built-in.
// As with Lua 5.1's C libraries, require 'ui' also sets the global ui.
func InstallModules(L *lua.LState, modules []Module) {
	byName := make(map[string]lua.LGFunction, len(modules))
	for _, m := range modules {
		byName[m.Name] = m.Loader
	}
	loaders, ok := L.GetField(L.GetField(L.Get(lua.GlobalsIndex), "package"), "loaders").(*lua.LTable)
	if !ok {
		return
	}
	loaders.Append(L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		loader, ok := byName[name]
		if !ok {
			L.Push(lua.LString("\n\tno built-in module '" + name + "'"))
			return 1
		}
		L.Push(L.NewFunction(func(L *lua.LState) int {
			n := loader(L)
			// Like Lua 5.1's C libraries, a built-in module is also a global.
			if mod := L.Get(-1); n > 0 && mod != lua.LNil {
				globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
				if globals.RawGetString(name) == lua.LNil {
					globals.RawSetString(name, mod)
				}
			}
			return n
		}))
		return 1
	}))
}
