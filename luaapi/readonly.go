package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// LockStringLibrary makes the string library read-only for scripts. Every
// caller's coroutine shares one Lua state, and so one string metatable:
// without this, getmetatable(”).__index = t or string.rep = f in one
// caller's session would change string methods for every caller.
//
// After it, strings index a private copy of the library that no script can
// reach; the global string is a read-only view of it (assigning to it,
// rawset on it or setmetatable on it raise an error; pairs(string) sees
// nothing); getmetatable(”) returns a read-only view whose __index is the
// global string; setmetatable accepts only tables, as in Lua 5.1, and
// debug.setmetatable does not change a protected metatable or a whole
// type's. Replacing the global string itself (string = t) still changes it
// for every caller, like any other global.
func LockStringLibrary(L *lua.LState) {
	lib, ok := L.GetGlobal("string").(*lua.LTable)
	if !ok {
		return
	}
	private := L.NewTable()
	lib.ForEach(func(k, v lua.LValue) { private.RawSet(k, v) })
	view := readOnlyView(L, "string library", private)
	mtView := readOnlyView(L, "string metatable", tableOf(L, map[string]lua.LValue{"__index": view}))
	// The metatable itself is out of reach: __metatable hides it from
	// getmetatable and debug.getmetatable, and so the private copy too.
	L.SetMetatable(lua.LString(""), tableOf(L, map[string]lua.LValue{"__index": private, "__metatable": mtView}))
	L.SetGlobal("string", view)
	guardMetatableFunctions(L, view, mtView)
}

// readOnlyView is an empty table that reads through to backing, refuses
// writes with an error naming what, and hides its metatable.
func readOnlyView(L *lua.LState, what string, backing *lua.LTable) *lua.LTable {
	view := L.NewTable()
	refuse := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("the %s is shared by every caller and cannot be changed", what)
		return 0
	})
	L.SetMetatable(view, tableOf(L, map[string]lua.LValue{"__index": backing, "__newindex": refuse, "__metatable": lua.LFalse}))
	return view
}

// tableOf is a new table with the fields of m.
func tableOf(L *lua.LState, m map[string]lua.LValue) *lua.LTable {
	t := L.NewTable()
	for k, v := range m {
		t.RawSetString(k, v)
	}
	return t
}

// guardMetatableFunctions replaces rawset, setmetatable and
// debug.setmetatable with versions that cannot change the protected views
// or a whole type's metatable.
func guardMetatableFunctions(L *lua.LState, protected ...*lua.LTable) {
	isProtected := func(v lua.LValue) bool {
		for _, p := range protected {
			if v == p {
				return true
			}
		}
		return false
	}
	globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
	if rawset, ok := globals.RawGetString("rawset").(*lua.LFunction); ok {
		globals.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
			if isProtected(L.Get(1)) {
				L.RaiseError("rawset: the string library is shared by every caller and cannot be changed")
			}
			return callThrough(L, rawset)
		}))
	}
	if setmt, ok := globals.RawGetString("setmetatable").(*lua.LFunction); ok {
		globals.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
			L.CheckTable(1)
			return callThrough(L, setmt)
		}))
	}
	if debug, ok := globals.RawGetString("debug").(*lua.LTable); ok {
		debug.RawSetString("setmetatable", L.NewFunction(debugSetMetatable))
	}
}

// debugSetMetatable is debug.setmetatable for tables and userdata whose
// metatable is not protected: the metatables of strings, numbers and other
// types are shared by every caller.
func debugSetMetatable(L *lua.LState) int {
	obj := L.Get(1)
	L.CheckTypes(2, lua.LTNil, lua.LTTable)
	var current lua.LValue
	switch o := obj.(type) {
	case *lua.LTable:
		current = o.Metatable
	case *lua.LUserData:
		current = o.Metatable
	default:
		L.RaiseError("debug.setmetatable: the metatable of every %s is shared by every caller and cannot be changed", obj.Type().String())
	}
	if mt, ok := current.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("debug.setmetatable: cannot change a protected metatable")
	}
	L.SetMetatable(obj, L.Get(2))
	L.SetTop(1)
	return 1
}

// callThrough calls fn with the arguments of the running Go function and
// returns its results.
func callThrough(L *lua.LState, fn *lua.LFunction) int {
	top := L.GetTop()
	L.Push(fn)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}
