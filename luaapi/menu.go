package luaapi

import (
	_ "embed"

	lua "github.com/yuin/gopher-lua"
)

// menuSource is the menu module, written in Lua: menus declared as data,
// rendered, read and dispatched (see the file for its API).
//
//go:embed lua/menu.lua
var menuSource string

// MenuLoader opens the menu module. A scripts/menu.lua replaces it.
func MenuLoader(L *lua.LState) int {
	fn, err := LoadString(L, menuSource, "menu.lua (built in)")
	if err != nil {
		L.RaiseError("menu module: %v", err)
	}
	L.Push(fn)
	L.Call(0, 1)
	return 1
}
