package session

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// takeRemoteCaller handles the RLogin gateway's word that a remote board
// it accepted (by its shared secret or address) called in for its caller
// "board:user" (host/gateway/rlogin): an assertion like an SSH key
// login's (takeKeyLogin), under keylogin.RemoteCallerWire and checked
// with Config.RemoteCallers, a key of its own. It returns the caller's
// name, which db.remote_caller then gives the script, or "".
func (t *Table) takeRemoteCaller(req *m2proto.Request, msg *lua.LTable, line string) string {
	name := t.takeAssertion(req, msg, line, keylogin.RemoteCallerWire, t.cfg.RemoteCallers, "remote caller")
	if _, _, ok := store.SplitRemoteName(name); !ok {
		return ""
	}
	return name
}

// remoteOf describes the remote caller on L, as takeRemoteCaller
// verified them at the start of their call (Name "" for anyone else).
func (t *Table) remoteOf(L *lua.LState) luaapi.RemoteCaller {
	s := t.sessionOn(L)
	if s == nil || s.remote == "" {
		return luaapi.RemoteCaller{}
	}
	board, user, _ := store.SplitRemoteName(s.remote)
	return luaapi.RemoteCaller{Name: s.remote, Board: board, User: user, Entry: t.cfg.RemoteEntries[strings.ToLower(board)]}
}
