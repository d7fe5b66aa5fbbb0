package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// isDisconnect reports whether req is the front end's notice that the
// caller hung up (m2proto.Request.IsDisconnect), given its body already
// decoded into data (or the error decoding it): a JSON request whose body
// is an object with "type" equal to "disconnect". Only a body the Lua
// decoder refused (too deep) is parsed again, by IsDisconnect itself.
func isDisconnect(req *m2proto.Request, data lua.LValue, decodeErr error) bool {
	if decodeErr != nil {
		return req.IsDisconnect()
	}
	msg, ok := data.(*lua.LTable)
	// An array decodes to a table too, but one without a "type" key.
	return ok && msg.RawGetString("type") == lua.LString("disconnect") && req.IsJSON()
}
