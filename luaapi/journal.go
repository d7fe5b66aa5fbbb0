package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// Recorder journals host calls whose answers the script cannot know in
// advance, so that a session can be rebuilt by replay (see host/handler/session).
// Call runs fn, the host call named name, for the script on L and records
// what it returned or raised; while that session is being replayed it
// returns (or raises) the journaled answer instead, without running fn.
//
// writes says that the call changes what the store holds or what other
// callers see. A Recorder stores the journal right after such a call, so
// that a host that dies can leave at most that one call without its
// journal entry; the journal of read-only calls can wait for the end of
// the resume.
type Recorder interface {
	Call(L *lua.LState, name string, writes bool, fn lua.LGFunction) int
}

// hostCall is one Go function of a module whose answers come from the
// database, the clock, the random number generator or the other callers
// (the db, callers, users, door, board and mail modules): a Recorder
// journals it. ui, menu and the conn methods are not host calls: what
// they send is suppressed during a replay, and ui's prompts are answered
// from the journaled requests.
type hostCall struct {
	fn lua.LGFunction
	// writes: the call changes what the store holds or what other
	// callers see (see Recorder).
	writes bool
}

// reads marks fn as a host call that only reads.
func reads(fn lua.LGFunction) hostCall { return hostCall{fn: fn} }

// writes marks fn as a host call that writes.
func writes(fn lua.LGFunction) hostCall { return hostCall{fn: fn, writes: true} }

// hostCalls is a module's function table, each function marked as a read
// or a write where it is listed.
type hostCalls map[string]hostCall

// table returns the Lua table of the calls; with rec set, each is
// journaled under prefix.name.
func (c hostCalls) table(L *lua.LState, rec Recorder, prefix string) *lua.LTable {
	tbl := L.CreateTable(0, len(c))
	for name, call := range c {
		tbl.RawSetString(name, L.NewFunction(journaled(rec, prefix+"."+name, call)))
	}
	return tbl
}

// journaled returns call's function wrapped so that rec journals it under
// name; with a nil rec it returns the function itself.
func journaled(rec Recorder, name string, call hostCall) lua.LGFunction {
	if rec == nil {
		return call.fn
	}
	return func(L *lua.LState) int { return rec.Call(L, name, call.writes, call.fn) }
}

// journalStandardLibrary journals the standard functions whose answers
// depend on when or by chance: os.time, os.date, os.clock, math.random.
func journalStandardLibrary(L *lua.LState, rec Recorder) {
	for _, lib := range []struct {
		table string
		funcs []string
	}{{"os", []string{"time", "date", "clock"}}, {"math", []string{"random"}}} {
		tbl, ok := L.GetGlobal(lib.table).(*lua.LTable)
		if !ok {
			continue
		}
		for _, name := range lib.funcs {
			if fn, ok := tbl.RawGetString(name).(*lua.LFunction); ok && fn.IsG {
				tbl.RawSetString(name, L.NewFunction(journaled(rec, lib.table+"."+name, reads(fn.GFunction))))
			}
		}
	}
}

// sessionLoader opens the session module: session.checkpoint(conn, req,
// user) tells the host that calling the script's resume function with
// (conn, req, user) would bring the caller to this point, so their journal
// can start over from here. Without journaling it does nothing.
func sessionLoader(checkpoint func(L *lua.LState, user string)) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"checkpoint": func(L *lua.LState) int {
				user := L.CheckString(3)
				if checkpoint != nil {
					checkpoint(L, user)
				}
				return 0
			},
		}))
		return 1
	}
}
