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
// callers see. A Recorder stores the caller's journal up to such a call
// before running it, so that a replay never runs a journaled write again:
// a journal that ends at a write whose outcome the replay cannot know
// diverges instead. The write's own entry, like those of read-only calls,
// is stored with the rest of the resume's (before its replies leave) or
// with the next write, so a host that dies leaves at most that one write
// without its entry.
type Recorder interface {
	Call(L *lua.LState, name string, writes bool, fn lua.LGFunction) int
}

// RidingRecorder is a Recorder that can store the journal up to a write
// call in the write's own store transaction (a store.Rider on the call's
// context) rather than in one of its own before it. CallRiding is Call
// for a write all of whose effects are store write transactions, made
// with the context storeCall gives: the first of them carries the
// journal, so the entries and the write are stored together or not at
// all. A call that writes anything else (events, pages, the shared
// module, a door) must use Call.
type RidingRecorder interface {
	Recorder
	CallRiding(L *lua.LState, name string, fn lua.LGFunction) int
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
	// rides: every effect of the call is a store write transaction made
	// through storeCall (see RidingRecorder).
	rides bool
}

// reads marks fn as a host call that only reads.
func reads(fn lua.LGFunction) hostCall { return hostCall{fn: fn} }

// writes marks fn as a host call that writes.
func writes(fn lua.LGFunction) hostCall { return hostCall{fn: fn, writes: true} }

// storeWrites marks fn as a host call that writes only in store write
// transactions, made through storeCall: its journal may ride in the
// first of them (see RidingRecorder).
func storeWrites(fn lua.LGFunction) hostCall { return hostCall{fn: fn, writes: true, rides: true} }

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
	if rr, ok := rec.(RidingRecorder); ok && call.rides {
		return func(L *lua.LState) int { return rr.CallRiding(L, name, call.fn) }
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
