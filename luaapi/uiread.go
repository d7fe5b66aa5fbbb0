package luaapi

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// DefaultMessageLines is how many lines ui.read_lines reads when the
// script gives no limit: the original board's 24.
const DefaultMessageLines = 24

// MaxMessageLines bounds the line limit a script may give ui.read_lines.
const MaxMessageLines = 1000

// MaxMessageBytes bounds the text of one message ui.read_lines reads: once
// its lines hold that many bytes it stops asking, as at the line limit.
// Each line is already bounded by the host (-max-line, 4096 bytes).
const MaxMessageBytes = 1 << 20

// readLinesSource is ui.read_lines(conn, req [, max]): it asks for lines,
// numbered ' 1: ', ' 2: ' …, until the caller types a lone '.', max lines
// (DefaultMessageLines when nil) have been typed or they hold
// MaxMessageBytes, and returns the last request and the lines ('.' not
// among them). gopher-lua lets a Go function wait for the caller only as
// its last act (return L.Yield()), so the loop that waits line after line
// is Lua, around the Go ui.ask; it is loaded with the module, in the
// caller's Lua state, and captures what it uses at that moment, so a
// script that later replaces a global changes nothing here.
const readLinesSource = `
local ask, default_lines, most_lines, most_bytes = ...
local floor, format, type, error = math.floor, string.format, type, error
return function(conn, req, max)
    if max == nil then max = default_lines end
    if type(max) ~= 'number' or max ~= floor(max) or max < 1 or max > most_lines then
        error(format('ui.read_lines: the line limit must be a whole number from 1 to %d', most_lines), 2)
    end
    local lines, bytes = {}, 0
    while #lines < max and bytes < most_bytes do
        req = ask(conn, req, '', format('%2d: ', #lines + 1))
        local line = req.data.msg
        if line == '.' then break end
        lines[#lines + 1] = line
        if type(line) == 'string' then bytes = bytes + #line end
    end
    return req, lines
end
`

// readLinesFunc builds ui.read_lines in L around ask, the module's ui.ask.
func readLinesFunc(L *lua.LState, ask lua.LValue) lua.LValue {
	chunk, err := LoadString(L, readLinesSource, "<ui.read_lines>")
	if err != nil {
		panic(fmt.Sprintf("ui.read_lines does not compile: %v", err))
	}
	L.Push(chunk)
	L.Push(ask)
	L.Push(lua.LNumber(DefaultMessageLines))
	L.Push(lua.LNumber(MaxMessageLines))
	L.Push(lua.LNumber(MaxMessageBytes))
	L.Call(4, 1)
	fn := L.Get(-1)
	L.Pop(1)
	return fn
}
