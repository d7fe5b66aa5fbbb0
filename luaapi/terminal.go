package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// SetTerminal follows the terminal a gateway says the caller has, from the
// "terminal" member of a request's data (see termprofile.Profile.AppendJSON):
// a table with type, width, height, encoding and ansi. What a profile may
// not hold is dropped (termprofile.Profile.Clean); a request without the
// member changes nothing. The host calls it for every request, live or
// replayed from a journal, so conn:terminal() is the same on replay.
func (c *Conn) SetTerminal(data *lua.LTable) {
	t, ok := data.RawGetString("terminal").(*lua.LTable)
	if !ok {
		return
	}
	var p termprofile.Profile
	if s, ok := t.RawGetString("type").(lua.LString); ok {
		p.Type = string(s)
	}
	if n, ok := t.RawGetString("width").(lua.LNumber); ok {
		p.Width = int(n)
	}
	if n, ok := t.RawGetString("height").(lua.LNumber); ok {
		p.Height = int(n)
	}
	if s, ok := t.RawGetString("encoding").(lua.LString); ok {
		p.Encoding = termprofile.Encoding(s)
	}
	if b, ok := t.RawGetString("ansi").(lua.LBool); ok {
		p.NoANSI = !bool(b)
	}
	if b, ok := t.RawGetString("keys").(lua.LBool); ok {
		p.Keys = bool(b)
	}
	if b, ok := t.RawGetString("bin").(lua.LBool); ok {
		p.Binary = bool(b)
	}
	c.Terminal = p.Clean()
}

// conn:terminal(): the caller's terminal, as a table: width and height in
// characters (80 and 24 when the client did not say), encoding ('utf-8',
// 'cp437' or 'ascii'; 'utf-8' when unknown), ansi (the terminal shows
// colour and cursor codes, and the client wants them), type (the terminal
// type the client named, ” if none), size_known and encoding_known
// (false when the values are the defaults), and keys (the caller's
// gateway can do keystroke mode and the terminal shows ANSI: ui.keys and
// ui.edit's full-screen editor work; never for the classic client), and
// binary (the caller's gateway can do binary stream mode: transfer.send
// and transfer.receive work; telnet and SSH only).
func connTerminal(L *lua.LState) int {
	c := checkConn(L, 1)
	p := c.Terminal
	t := L.CreateTable(0, 8)
	t.RawSetString("width", lua.LNumber(orDefault(p.Width, termprofile.DefaultWidth)))
	t.RawSetString("height", lua.LNumber(orDefault(p.Height, termprofile.DefaultHeight)))
	t.RawSetString("size_known", lua.LBool(p.Width > 0 && p.Height > 0))
	enc := p.Encoding
	t.RawSetString("encoding_known", lua.LBool(enc != ""))
	if enc == "" {
		enc = termprofile.UTF8
	}
	t.RawSetString("encoding", lua.LString(enc))
	t.RawSetString("ansi", lua.LBool(c.Colour && !p.NoANSI))
	t.RawSetString("type", lua.LString(p.Type))
	t.RawSetString("keys", lua.LBool(p.Keys && c.Colour && !p.NoANSI))
	t.RawSetString("binary", lua.LBool(p.Binary))
	L.Push(t)
	return 1
}

// orDefault is n, or def when n is unknown (0).
func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// conn:set_encoding(encoding): the caller's terminal shows encoding
// ('utf-8', 'cp437' or 'ascii'); the next message the caller gets tells
// their edge, which translates from then on, and conn:terminal() reports
// it. For a caller whose terminal type did not tell (see the shipped
// board, which asks once and keeps the answer with users.set_encoding).
// Another name is an error.
func connSetEncoding(L *lua.LState) int {
	c := checkConn(L, 1)
	enc, ok := termprofile.ParseEncoding(L.CheckString(2))
	if !ok {
		L.ArgError(2, "encoding must be 'utf-8', 'cp437' or 'ascii'")
	}
	c.Terminal.Encoding, c.tellEncoding = enc, enc
	return 0
}
