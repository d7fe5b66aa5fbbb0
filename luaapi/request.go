package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/m2proto"
)

// NewRequest builds the request table a script receives: req.conn_id,
// req.sender, req.path, req.headers, req.body and req.data (the decoded
// JSON body, or nil).
func NewRequest(L *lua.LState, r *m2proto.Request, data lua.LValue) *lua.LTable {
	headers := L.CreateTable(0, len(r.Headers))
	for _, h := range r.Headers {
		headers.RawSetString(h.Name, lua.LString(h.Value))
	}
	req := L.CreateTable(0, 6)
	req.RawSetString("conn_id", lua.LString(r.ConnID))
	req.RawSetString("sender", lua.LString(r.Sender))
	req.RawSetString("path", lua.LString(r.Path))
	req.RawSetString("headers", headers)
	req.RawSetString("body", lua.LString(r.Body))
	req.RawSetString("data", data)
	return req
}
