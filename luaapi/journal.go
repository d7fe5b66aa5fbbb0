package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// Recorder journals host calls whose answers the script cannot know in
// advance, so that a session can be rebuilt by replay (see host/session).
// Call runs fn, the host call named name, for the script on L and records
// what it returned or raised; while that session is being replayed it
// returns (or raises) the journaled answer instead, without running fn.
type Recorder interface {
	Call(L *lua.LState, name string, fn lua.LGFunction) int
}

// journaledModules are the built-in modules whose Go functions all go
// through the Recorder: their answers come from the database, the clock,
// the random number generator or the other callers. ui, menu and the conn
// methods are not journaled: what they send is suppressed during a
// replay, and ui's prompts are answered from the journaled requests.
var journaledModules = map[string]bool{
	"db": true, "callers": true, "users": true, "door": true, "board": true, "mail": true,
}

// notJournaled are functions of journaled modules whose answers are fixed
// by their arguments alone.
var notJournaled = map[string]bool{
	"door.open": true, // returns a handle; the handle's methods are journaled
}

// storeWrites are the journaled calls that change what the store holds
// (or what other callers see), as opposed to those that only read it.
var storeWrites = map[string]bool{
	"db.auth_user": true, "db.register_user": true, "db.post_message": true, "db.send_to": true,
	"db.read_inbox": true, "db.reconnect": true,
	"board.define_area": true, "board.post": true, "board.delete": true, "board.mark_read": true,
	"board.next_new": true,
	"mail.send":      true, "mail.read": true, "mail.delete": true,
	"users.set_level": true, "users.ban": true, "users.unban": true, "users.write_wall": true,
	"callers.page":  true,
	"door.game.set": true, "door.game.add": true, "door.game.set_global": true, "door.game.add_global": true,
}

// WritesStore reports whether the journaled call name changes the store
// or what other callers see. A Recorder stores the journal right after
// such a call, so that a host that dies can leave at most that one call
// without its journal entry; the journal of read-only calls can wait for
// the end of the resume.
func WritesStore(name string) bool { return storeWrites[name] }

// Journaled returns fn wrapped so that rec journals it under name; with a
// nil rec it returns fn.
func Journaled(rec Recorder, name string, fn lua.LGFunction) lua.LGFunction {
	if rec == nil {
		return fn
	}
	return func(L *lua.LState) int { return rec.Call(L, name, fn) }
}

// journalTable replaces every Go function in module table tbl (named
// module) by its journaled form.
func journalTable(L *lua.LState, rec Recorder, module string, tbl *lua.LTable) {
	type field struct {
		key string
		fn  *lua.LFunction
	}
	var fields []field
	tbl.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		fn, isFn := v.(*lua.LFunction)
		if ok && isFn && fn.IsG && len(fn.Upvalues) == 0 {
			fields = append(fields, field{string(key), fn})
		}
	})
	for _, f := range fields {
		name := module + "." + f.key
		if notJournaled[name] {
			continue
		}
		tbl.RawSetString(f.key, L.NewFunction(Journaled(rec, name, f.fn.GFunction)))
	}
}

// journalLoader wraps a module loader so the module's functions are
// journaled.
func journalLoader(rec Recorder, module string, loader lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		n := loader(L)
		if tbl, ok := L.Get(-1).(*lua.LTable); ok && n > 0 {
			journalTable(L, rec, module, tbl)
		}
		return n
	}
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
				tbl.RawSetString(name, L.NewFunction(Journaled(rec, lib.table+"."+name, fn.GFunction)))
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
