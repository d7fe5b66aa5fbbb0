package luaapi

import (
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// A caller's every line arrives as a small JSON object ({"type":"msg",
// "msg":"ann"}, often with the caller's terminal as a nested object), and
// decoding it into the request's data table is part of every prompt round
// trip. encoding/json builds a map[string]any first and FromGo copies it
// into Lua tables; decodeFast builds the tables directly from the bytes.
//
// decodeFast handles the documents callers send and gives up (ok false)
// on anything else, leaving it to encoding/json: a string with an escape
// or with bytes that are not valid UTF-8 (encoding/json rewrites those),
// a number strconv.ParseFloat refuses (out of range), nesting deeper than
// fastMaxDepth, and every malformed document. What it returns when it
// does not give up is what encoding/json and FromGo return for the same
// bytes (FuzzDecodeFastAgrees checks it against them). It reads each byte
// at most once, so its cost is linear in the document, which the front
// end bounds (its frame limit).

// fastMaxDepth is the deepest nesting decodeFast handles; deeper
// documents go to encoding/json (and MaxJSONDepth's check).
const fastMaxDepth = 8

// fastDecoder is decodeFast's position in the document.
type fastDecoder struct {
	L    *lua.LState
	data []byte
	pos  int
}

// decodeFast decodes data as DecodeJSON does, or reports ok false when it
// leaves the document to encoding/json.
func decodeFast(L *lua.LState, data []byte) (v lua.LValue, ok bool) {
	d := fastDecoder{L: L, data: data}
	v, ok = d.value(0)
	if !ok {
		return lua.LNil, false
	}
	d.space()
	return v, d.pos == len(d.data)
}

// space skips JSON's white space.
func (d *fastDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at the position, at nesting depth.
func (d *fastDecoder) value(depth int) (lua.LValue, bool) {
	d.space()
	if d.pos >= len(d.data) {
		return lua.LNil, false
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		s, ok := d.str()
		return lua.LString(s), ok
	case c == 't':
		return lua.LTrue, d.word("true")
	case c == 'f':
		return lua.LFalse, d.word("false")
	case c == 'n':
		return lua.LNil, d.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return lua.LNil, false
}

// word reads the literal w.
func (d *fastDecoder) word(w string) bool {
	if len(d.data)-d.pos < len(w) || string(d.data[d.pos:d.pos+len(w)]) != w {
		return false
	}
	d.pos += len(w)
	return true
}

// object decodes an object into a table, as FromGo does: a null member
// leaves its key out, a key given twice keeps its last value.
func (d *fastDecoder) object(depth int) (lua.LValue, bool) {
	t := d.L.CreateTable(0, 4)
	return d.members(t, depth, '}', func() bool {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return false
		}
		key, ok := d.str()
		if !ok {
			return false
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return false
		}
		d.pos++
		v, ok := d.value(depth)
		if ok {
			t.RawSetString(key, v)
		}
		return ok
	})
}

// array decodes an array into a table, as FromGo does (Append: a null
// element is skipped).
func (d *fastDecoder) array(depth int) (lua.LValue, bool) {
	t := d.L.CreateTable(4, 0)
	return d.members(t, depth, ']', func() bool {
		v, ok := d.value(depth)
		if ok {
			t.Append(v)
		}
		return ok
	})
}

// members reads the members (or elements) of the object (or array) t
// whose opening byte is at the position, each with member, up to
// closing.
func (d *fastDecoder) members(t *lua.LTable, depth int, closing byte, member func() bool) (lua.LValue, bool) {
	if depth > fastMaxDepth {
		return lua.LNil, false
	}
	d.pos++ // the opening byte
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == closing {
		d.pos++
		return t, true
	}
	for {
		if !member() {
			return lua.LNil, false
		}
		if more, ok := d.next(closing); !more {
			return t, ok
		}
	}
}

// next reads the separator after a member or element: more after a
// comma (another follows); ok without more after the closing byte; neither
// on anything else.
func (d *fastDecoder) next(closing byte) (more, ok bool) {
	d.space()
	if d.pos >= len(d.data) {
		return false, false
	}
	c := d.data[d.pos]
	d.pos++
	return c == ',', c == ',' || c == closing
}

// str reads a string without escapes whose bytes are valid UTF-8.
func (d *fastDecoder) str() (string, bool) {
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			d.pos = i + 1
			return intern(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a number of JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?
// ([eE][+-]?[0-9]+)?, as a float64.
func (d *fastDecoder) number() (lua.LValue, bool) {
	start, i, n := d.pos, d.pos, len(d.data)
	if d.data[i] == '-' {
		i++
	}
	digits := func() bool {
		from := i
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		return i > from
	}
	switch {
	case i < n && d.data[i] == '0':
		i++
	case !digits():
		return lua.LNil, false
	}
	if i < n && d.data[i] == '.' {
		i++
		if !digits() {
			return lua.LNil, false
		}
	}
	if i < n && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < n && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			return lua.LNil, false
		}
	}
	f, err := strconv.ParseFloat(string(d.data[start:i]), 64)
	if err != nil {
		return lua.LNil, false
	}
	d.pos = i
	return lua.LNumber(f), true
}

// intern is s as a string, without a copy for the words every line
// carries (the members' names, the message type, the terminal's fields).
func intern(s []byte) string {
	switch string(s) {
	case "type":
		return "type"
	case "msg":
		return "msg"
	case "terminal":
		return "terminal"
	case "width":
		return "width"
	case "height":
		return "height"
	case "encoding":
		return "encoding"
	case "ansi":
		return "ansi"
	case "keys":
		return "keys"
	case "":
		return ""
	}
	return string(s)
}
