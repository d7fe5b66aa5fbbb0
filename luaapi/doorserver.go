package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// door.servers() -> the door servers of the settings (door_servers), in
// their order, as {name =, title =}: what a menu lists. Their addresses
// and credentials stay with the host.
func (d *Door) servers(L *lua.LState) int {
	list := L.CreateTable(len(d.Servers), 0)
	for _, s := range d.Servers {
		t := L.CreateTable(0, 2)
		t.RawSetString("name", lua.LString(s.Name))
		title := s.Title
		if title == "" {
			title = s.Name
		}
		t.RawSetString("title", lua.LString(title))
		list.Append(t)
	}
	L.Push(list)
	return 1
}
