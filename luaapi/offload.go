package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// Offloader lets a host call's Go function have slow, pure work (a bcrypt
// hash: tens of milliseconds at the default cost) done away from the Lua
// state's goroutine, so that the other callers the state serves are not
// kept waiting: the calling coroutine waits instead.
//
// Offload is called by the Go function running on L. It reports false when
// the work cannot be waited for here (no session, no background workers,
// or a yield from L would not reach the session's coroutine cleanly); the
// function then runs work and done itself. When it reports true, the
// function must return L.Yield() at once: the host runs work on another
// goroutine, then, back on the state's goroutine, done(L) with L the
// session's coroutine (suspended), whose values are what the call returns
// to the script. done must not push onto L's stack nor raise a Lua error;
// it may call the store and the Deps hooks.
type Offloader interface {
	Offload(L *lua.LState, work func(), done func(L *lua.LState) []lua.LValue) bool
}

// pcallRunKey is where OpenCompat keeps the yield-safe pcall's run
// function in the registry.
const pcallRunKey = "m2bbs.pcall_run"

// CanYieldTo reports whether a yield from the Go function running on L
// reaches home (a session's coroutine) with the coroutine intact: every
// frame between them is a Lua function, and every coroutine between them
// is one of the yield-safe pcall's, which pass yields through (compat.go).
// A Go frame (table.sort, string.gsub, the plain pcall) or a coroutine of
// the script's own would lose or misdirect the yield.
func CanYieldTo(L, home *lua.LState) bool {
	run := L.GetField(L.Get(lua.RegistryIndex), pcallRunKey)
	for th := L; th != nil; th = th.Parent {
		if goFrameAbove(th) {
			return false
		}
		if th == home {
			return true
		}
		p := th.Parent
		if p == nil || run == lua.LNil {
			return false
		}
		dbg, ok := p.GetStack(1)
		if !ok {
			return false
		}
		fn, err := p.GetInfo("f", dbg, lua.LNil)
		if err != nil || fn != run {
			return false
		}
	}
	return false
}

// goFrameAbove reports whether a Go function is among the callers of the
// function running on th (level 0).
func goFrameAbove(th *lua.LState) bool {
	for level := 1; ; level++ {
		dbg, ok := th.GetStack(level)
		if !ok {
			return false
		}
		if _, err := th.GetInfo("S", dbg, lua.LNil); err != nil || dbg.What == "G" {
			return true
		}
	}
}

// answerAfter runs work, then returns done's values to the script: off
// the state's goroutine through d.Offload when offload is set and the host
// can, else here and now.
func (d *DB) answerAfter(L *lua.LState, offload bool, work func(), done func(L *lua.LState) []lua.LValue) int {
	var off Offloader
	if offload {
		off = d.Offload
	}
	return answerAfter(L, off, work, done)
}

// answerAfter runs work, then returns done's values to the script: off
// the state's goroutine through off when it is set and can, else here
// and now.
func answerAfter(L *lua.LState, off Offloader, work func(), done func(L *lua.LState) []lua.LValue) int {
	if off != nil && off.Offload(L, work, padded(done)) {
		return L.Yield()
	}
	work()
	return pushValues(L, done(L))
}

// maxResults is the most values a db call returns (nil, "message").
const maxResults = 2

// padded returns done with its values padded with nils to maxResults: a
// Go function resumed after a yield returns exactly the values it is
// resumed with, and gopher-lua leaves a caller's expected results past
// them unset (not nil) instead of filling them in. So a resumed db call
// always returns two values (a caller taking all of them, say print,
// sees a trailing nil).
func padded(done func(L *lua.LState) []lua.LValue) func(L *lua.LState) []lua.LValue {
	return func(L *lua.LState) []lua.LValue {
		vals := done(L)
		for len(vals) < maxResults {
			vals = append(vals, lua.LNil)
		}
		return vals
	}
}

// pushValues pushes vals and returns how many.
func pushValues(L *lua.LState, vals []lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// failValues is fail's nil, "message" as values.
func failValues(err error) []lua.LValue {
	return []lua.LValue{lua.LNil, lua.LString(failText(err))}
}
