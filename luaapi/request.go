package luaapi

import (
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// NewRequest builds the request table a script receives: req.conn_id,
// req.sender, req.path, req.headers, req.body and req.data (the decoded
// JSON body, or nil). The line the caller typed, req.data.msg, is cleaned
// for terminals first (see CleanInput), so that no script can pass a
// caller's escape sequences on to other callers by mistake; req.body stays
// as it arrived.
func NewRequest(L *lua.LState, r *m2proto.Request, data lua.LValue) *lua.LTable {
	if t, ok := data.(*lua.LTable); ok {
		CleanInput(t)
	}
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

// CleanInput cleans the line a caller typed, msg.msg, in place: escape
// sequences, control characters other than tab, DEL and C1 controls are
// removed, a newline becomes a space, and bytes that are not UTF-8 become
// U+FFFD (termtext.CleanLine). Every line a caller types is one line, so
// nothing a caller can type needs them.
//
// The keys of a keystroke-mode request (type "keys") are kept as typed,
// control characters and escape sequences included, only made valid
// UTF-8: an editor or a door needs them. A script must never pass them
// on to other callers.
func CleanInput(msg *lua.LTable) {
	if msg.RawGetString("type") == lua.LString(message.TypeKeys) {
		if keys, ok := msg.RawGetString("msg").(lua.LString); ok && !utf8.ValidString(string(keys)) {
			msg.RawSetString("msg", lua.LString(strings.ToValidUTF8(string(keys), string(utf8.RuneError))))
		}
		return
	}
	if line, ok := msg.RawGetString("msg").(lua.LString); ok && !termtext.IsClean(string(line)) {
		msg.RawSetString("msg", lua.LString(termtext.CleanLine(string(line))))
	}
}
