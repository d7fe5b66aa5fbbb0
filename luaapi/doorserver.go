package luaapi

import (
	"fmt"
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
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

// DoorServerRunner runs a caller's call to a door server (the session
// table is one): the caller's terminal joined to the server's stream
// until either side hangs up.
//
// RunDoorServer is called by the Go function running on L (door.server,
// called with req); it pushes what door.server returns (req, then true;
// or req, nil, why) and returns their count, or returns L.Yield() and
// later resumes the coroutine with those values. The call and its answer
// are its to journal.
type DoorServerRunner interface {
	RunDoorServer(L *lua.LState, server doorserver.Server, caller doorserver.Caller, req lua.LValue) int
}

// door.server(conn, req, name [, code]) -> req, true when the caller
// comes back from the door server the settings name name; req, nil, why
// when the call could not be made (no such server, a bad door code, a
// caller without a terminal, the server refused). code is the door to
// ask the server for, for networks whose templates use {door}.
func (d *Door) server(L *lua.LState) int {
	c := checkConn(L, 1)
	req := L.Get(2)
	name := L.CheckString(3)
	code := L.OptString(4, "")
	failed := func(why string) int {
		L.Push(req)
		L.Push(lua.LNil)
		L.Push(lua.LString(why))
		return 3
	}
	i := slices.IndexFunc(d.Servers, func(s doorserver.Server) bool { return s.Name == name })
	if i < 0 {
		return failed(fmt.Sprintf("no door server is called %.40q", termtext.CleanLine(name)))
	}
	if d.ServerRunner == nil {
		return failed("door servers cannot be reached from here")
	}
	user := ""
	if d.User != nil {
		user = d.User(L)
	}
	if user == "" {
		return failed("log in first")
	}
	caller := doorserver.Caller{User: user, Terminal: c.Terminal.Type, Door: code}
	if _, err := d.Servers[i].Handshake(caller); err != nil {
		return failed(err.Error())
	}
	return d.ServerRunner.RunDoorServer(L, d.Servers[i], caller, req)
}
