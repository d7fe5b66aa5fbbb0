package luaapi

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/fsedit"
)

// editorTypeName names the editor userdata's metatable in the registry.
const editorTypeName = "m2bbs.editor"

// editSource is ui.edit(conn, req [, opts]): the full-screen editor for
// a caller in keystroke mode, the line editor (ui.read_lines) for
// another. The loop that waits for key after key is Lua, around the Go
// editor (host/handler/fsedit), for the reason readLinesSource gives.
// Only keys requests edit: a line typed just before the editor began, or
// anything else, is ignored. A window smaller than the editor's least
// (fsedit.MinWidth x fsedit.MinHeight) gets the line editor too.
const editSource = `
local new, wait, send, fallback, min_width, min_height = ...
local type, error = type, error
return function(conn, req, opts)
    if opts == nil then opts = {} end
    if type(opts) ~= 'table' then error('ui.edit: opts must be a table', 2) end
    local term = conn:terminal()
    if not term.keys or term.width < min_width or term.height < min_height then
        return fallback(conn, req, opts)
    end
    local ed = new(conn, opts)
    local out = ed:redraw()
    while true do
        req = wait(conn, out)
        out = ''
        local d = req.data
        if type(d) == 'table' and d.type == 'keys' and type(d.msg) == 'string' then
            local res
            out, res = ed:feed(d.msg)
            if res == 'saved' then
                send(conn, out)
                return req, ed:lines()
            elseif res == 'aborted' then
                send(conn, out)
                return req, nil
            end
        end
    end
end
`

// editFallbackSource is ui.edit for a caller without keystroke mode: the
// message replied to is shown (each line after "> "), then ui.read_lines
// reads the lines after opts.text, within opts.max_lines and
// opts.max_bytes (checked, with their defaults, as the editor's are).
const editFallbackSource = `
local display, read_lines, limits = ...
local type, concat, ipairs = type, table.concat, ipairs
return function(conn, req, opts)
    local max, max_bytes = limits(opts)
    if type(opts.quote) == 'table' and #opts.quote > 0 then
        local q = {}
        for i, l in ipairs(opts.quote) do q[i] = '> ' .. tostring(l) end
        display(conn, req, concat(q, '\n'))
    end
    local lines, size = {}, -1
    if type(opts.text) == 'table' then
        for i, l in ipairs(opts.text) do lines[i] = tostring(l) end
    end
    if #lines >= max then return req, lines end
    local typed
    req, typed = read_lines(conn, req, max - #lines)
    for _, l in ipairs(lines) do size = size + #l + 1 end
    for _, l in ipairs(typed) do
        size = size + #l + 1
        if size > max_bytes then break end
        lines[#lines + 1] = l
    end
    return req, lines
end
`

// editFunc builds ui.edit in L around mod's display and read_lines.
func editFunc(L *lua.LState, mod *lua.LTable) lua.LValue {
	mt := L.NewTypeMetatable(editorTypeName)
	L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"redraw": editorRedraw,
		"feed":   editorFeed,
		"lines":  editorLines,
	}))
	fallback := loadChunk(L, editFallbackSource, "<ui.edit fallback>", mod.RawGetString("display"), mod.RawGetString("read_lines"), L.NewFunction(editLimits))
	return loadChunk(L, editSource, "<ui.edit>", L.NewFunction(editorNew), L.NewFunction(editorWait), L.NewFunction(editorSend), fallback,
		lua.LNumber(fsedit.MinWidth), lua.LNumber(fsedit.MinHeight))
}

// loadChunk runs the chunk src with args and returns the function it
// returns.
func loadChunk(L *lua.LState, src, name string, args ...lua.LValue) lua.LValue {
	chunk, err := LoadString(L, src, name)
	if err != nil {
		panic(fmt.Sprintf("%s does not compile: %v", name, err))
	}
	L.Push(chunk)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	fn := L.Get(-1)
	L.Pop(1)
	return fn
}

// editor is one ui.edit's editor and the caller it edits for.
type editor struct {
	ed   *fsedit.Editor
	conn *Conn
}

// editLimits(opts): opts.max_lines and opts.max_bytes, checked, or
// their defaults (fsedit.DefaultMaxLines, fsedit.DefaultMaxBytes).
func editLimits(L *lua.LState) int {
	opts := L.CheckTable(1)
	lines := intOf(L, opts, "max_lines", fsedit.MaxLines)
	if lines == 0 {
		lines = fsedit.DefaultMaxLines
	}
	bytes := intOf(L, opts, "max_bytes", fsedit.MaxBytes)
	if bytes == 0 {
		bytes = fsedit.DefaultMaxBytes
	}
	L.Push(lua.LNumber(lines))
	L.Push(lua.LNumber(bytes))
	return 2
}

// editorNew(conn, opts): a new editor for the caller's window and
// character set, with opts.title, opts.quote (a list of lines),
// opts.text (a list of lines), opts.max_lines and opts.max_bytes. The
// title and lines are text as ui.display takes it (post.lines from the
// board module, say): their pipe codes are read, not drawn ("||" is a
// bar, a colour code is dropped), since the editor shows plain text.
func editorNew(L *lua.LState) int {
	c := checkConn(L, 1)
	opts := L.CheckTable(2)
	o := fsedit.Options{Width: c.Terminal.Width, Height: c.Terminal.Height, Encoding: c.Terminal.Encoding}
	if s, ok := opts.RawGetString("title").(lua.LString); ok {
		o.Title = RenderColour(string(s), false)
	} else if s, ok := opts.RawGetString("subject").(lua.LString); ok {
		o.Title = RenderColour(string(s), false)
	}
	o.Quote = plainLines(stringsOf(L, opts, "quote"))
	o.Text = plainLines(stringsOf(L, opts, "text"))
	o.MaxLines = intOf(L, opts, "max_lines", fsedit.MaxLines)
	o.MaxBytes = intOf(L, opts, "max_bytes", fsedit.MaxBytes)
	ud := L.NewUserData()
	ud.Value = &editor{ed: fsedit.New(o), conn: c}
	L.SetMetatable(ud, L.GetTypeMetatable(editorTypeName))
	L.Push(ud)
	return 1
}

// stringsOf reads opts[key], a list of strings (at most fsedit.MaxLines
// of them are kept), or nil.
func stringsOf(L *lua.LState, opts *lua.LTable, key string) []string {
	v := opts.RawGetString(key)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		L.ArgError(2, fmt.Sprintf("opts.%s must be a list of lines", key))
	}
	n := min(t.Len(), fsedit.MaxLines)
	out := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			L.ArgError(2, fmt.Sprintf("opts.%s[%d] must be a string", key, i))
		}
		out = append(out, string(s))
	}
	return out
}

// plainLines is lines with their pipe codes read as ui.display reads
// them, without colour.
func plainLines(lines []string) []string {
	for i, l := range lines {
		lines[i] = RenderColour(l, false)
	}
	return lines
}

// intOf reads opts[key], a whole number from 1 to most, or 0 if absent.
func intOf(L *lua.LState, opts *lua.LTable, key string, most int) int {
	v := opts.RawGetString(key)
	if v == lua.LNil {
		return 0
	}
	n, ok := v.(lua.LNumber)
	if !ok || n != lua.LNumber(int(n)) || n < 1 || int(n) > most {
		L.ArgError(2, fmt.Sprintf("opts.%s must be a whole number from 1 to %d", key, most))
	}
	return int(n)
}

// checkEditor returns the editor userdata at n.
func checkEditor(L *lua.LState, n int) *editor {
	if ed, ok := L.CheckUserData(n).Value.(*editor); ok {
		return ed
	}
	L.ArgError(n, "editor expected")
	return nil
}

// ed:redraw(): the whole screen.
func editorRedraw(L *lua.LState) int {
	e := checkEditor(L, 1)
	e.ed.Resize(e.conn.Terminal.Width, e.conn.Terminal.Height)
	L.Push(lua.LString(e.ed.Redraw()))
	return 1
}

// ed:feed(keys): edits with keys (after following a new window size);
// returns the output and 'editing', 'saved' or 'aborted'.
func editorFeed(L *lua.LState) int {
	e := checkEditor(L, 1)
	keys := L.CheckString(2)
	e.ed.Resize(e.conn.Terminal.Width, e.conn.Terminal.Height)
	if e.conn.Interrupted() { // a time warning, say, written over the editor
		e.ed.Invalidate()
	}
	out, res := e.ed.Feed(keys)
	L.Push(lua.LString(out))
	L.Push(lua.LString([...]string{fsedit.Editing: "editing", fsedit.Saved: "saved", fsedit.Aborted: "aborted"}[res]))
	return 2
}

// ed:lines(): the text, as a list of lines as typed (like ui.read_lines'
// lines: not pipe-escaped, board.post stores them as they are).
func editorLines(L *lua.LState) int {
	lines := checkEditor(L, 1).ed.Lines()
	t := L.CreateTable(len(lines), 0)
	for _, l := range lines {
		t.Append(lua.LString(l))
	}
	L.Push(t)
	return 1
}

// editorWait(conn, out): sends out in keystroke mode and waits for the
// caller's next request.
func editorWait(L *lua.LState) int {
	return WaitForKeys(L, checkConn(L, 1), L.CheckString(2), "[editor]", "ui.edit")
}

// editorSend(conn, out): sends the editor's last output, without waiting.
func editorSend(L *lua.LState) int {
	c := checkConn(L, 1)
	if err := c.SendKeys(L.CheckString(2), "[editor]"); err != nil {
		L.RaiseError("ui.edit: %v", err)
	}
	return 0
}
