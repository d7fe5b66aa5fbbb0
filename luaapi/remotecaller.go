package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// RemoteCaller is a caller another board sent here, this board being its
// door server: the RLogin gateway accepted the board (host/gateway/rlogin)
// and vouched for its caller, and the host verified it.
type RemoteCaller struct {
	// Name is "board:user", the name the caller is known by here: their
	// door data is kept under it (store.RemoteName).
	Name string
	// Board and User are its two parts.
	Board, User string
	// Entry is the door (scripts/doors/ENTRY.lua), or "doors" for the
	// Doors menu, the board's settings send its callers straight into
	// ("" when the settings name none).
	Entry string
}

// remoteCaller is db.remote_caller(conn): for a remote board's caller, a
// table {name =, board =, user =, entry =}, and the caller is logged in
// as name (who's online shows it; doors keep their data under it);
// nil for anyone else. Its answer is journaled, and so is the login.
func (d *DB) remoteCaller(L *lua.LState) int {
	if d.Remote == nil {
		L.Push(lua.LNil)
		return 1
	}
	rc := d.Remote(L)
	if rc.Name == "" {
		L.Push(lua.LNil)
		return 1
	}
	if d.OnLogin != nil {
		d.OnLogin(L, rc.Name) // not an account: no call recorded
	}
	t := L.NewTable()
	t.RawSetString("name", lua.LString(rc.Name))
	t.RawSetString("board", lua.LString(rc.Board))
	t.RawSetString("user", lua.LString(rc.User))
	if rc.Entry != "" {
		t.RawSetString("entry", lua.LString(rc.Entry))
	}
	L.Push(t)
	return 1
}
