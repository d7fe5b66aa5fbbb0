package luaapi

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// Bounds on what one call of a built-in may build. gopher-lua checks a
// script's time budget only between two VM instructions, so a single call
// of a built-in runs to completion however long it takes: the built-ins
// whose cost a script (or a caller's input) could make unbounded are
// replaced by versions that refuse, with a Lua error, to build more than
// these. Not bounded: the time one pattern match takes (string.find,
// match, gmatch, gsub) on a pathological pattern, which backtracks inside
// one call; what keeps it small is the length of the input (a caller's
// line is at most 4096 bytes, a string built here at most 1 MiB).
const (
	// MaxStringBytes bounds a string built by string.rep, string.char,
	// string.format, string.gsub and table.concat: 1 MiB.
	MaxStringBytes = 1 << 20
	// MaxResults bounds the values one call of unpack or string.byte
	// returns, and the arguments string.char takes: 64 Ki.
	MaxResults = 64 << 10
	// maxFormatDigits bounds a width or precision in string.format, as in
	// Lua 5.1 ("%99s" is the widest).
	maxFormatDigits = 2
)

// boundedBuiltins are the replacements, by library ("" for the base
// library) and name.
var boundedBuiltins = []struct {
	lib, name string
	fn        lua.LGFunction
}{
	{"", "unpack", boundedUnpack},
	{"string", "rep", stringRep},
	{"string", "byte", boundedByte},
	{"string", "char", boundedChar},
	{"string", "gsub", boundedGsub},
	{"table", "concat", boundedConcat},
}

// openBounded installs the bounded built-ins in L.
func openBounded(L *lua.LState) {
	globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
	for _, b := range boundedBuiltins {
		lib := globals
		if b.lib != "" {
			t, ok := globals.RawGetString(b.lib).(*lua.LTable)
			if !ok {
				continue
			}
			lib = t
		}
		lib.RawSetString(b.name, L.NewFunction(b.fn))
	}
	if strLib, ok := globals.RawGetString("string").(*lua.LTable); ok {
		if original, ok := strLib.RawGetString("format").(*lua.LFunction); ok {
			strLib.RawSetString("format", L.NewFunction(boundedFormat(original)))
		}
	}
}

// tooLarge raises the error of a built-in whose result would pass a bound.
func tooLarge(L *lua.LState, name string, limit int, unit string) {
	L.RaiseError("%s: result too large (at most %d %s)", name, limit, unit)
}

// boundedUnpack is unpack(t [, i [, j]]) returning at most MaxResults
// values.
func boundedUnpack(L *lua.LState) int {
	tb := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, tb.Len())
	if i > j {
		return 0
	}
	if int64(j)-int64(i) >= MaxResults {
		tooLarge(L, "unpack", MaxResults, "values")
	}
	for k := i; k <= j; k++ {
		L.Push(tb.RawGetInt(k))
	}
	return j - i + 1
}

// stringRep is string.rep(s, n) with its result bounded by MaxStringBytes.
func stringRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > MaxStringBytes/len(s) {
		tooLarge(L, "string.rep", MaxStringBytes, "bytes")
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// boundedByte is string.byte(s [, i [, j]]) returning at most MaxResults
// values.
func boundedByte(L *lua.LState) int {
	s := L.CheckString(1)
	i := stringIndex(L.OptInt(2, 1), len(s))
	j := stringIndex(L.OptInt(3, i), len(s))
	i, j = max(i, 1), min(j, len(s))
	if i > j {
		return 0
	}
	if j-i >= MaxResults {
		tooLarge(L, "string.byte", MaxResults, "values")
	}
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return j - i + 1
}

// stringIndex turns a Lua string position, negative from the end, into a
// position from the start (Lua 5.1's posrelat).
func stringIndex(pos, length int) int {
	if pos < 0 {
		return length + pos + 1
	}
	return pos
}

// boundedChar is string.char(...) taking at most MaxResults bytes.
func boundedChar(L *lua.LState) int {
	n := L.GetTop()
	if n > MaxResults {
		tooLarge(L, "string.char", MaxResults, "bytes")
	}
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		c := L.CheckInt(i)
		if c < 0 || c > 255 {
			L.ArgError(i, "invalid value")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

// boundedConcat is table.concat(t [, sep [, i [, j]]]) in linear time,
// with its result bounded by MaxStringBytes.
func boundedConcat(L *lua.LState) int {
	tb := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tb.Len())
	var b strings.Builder
	for k := i; k <= j; k++ {
		v := tb.RawGetInt(k)
		if !lua.LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), k)
		}
		s := lua.LVAsString(v)
		if b.Len()+len(s)+len(sep) > MaxStringBytes {
			tooLarge(L, "table.concat", MaxStringBytes, "bytes")
		}
		b.WriteString(s)
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// boundedFormat wraps string.format: widths and precisions have at most
// two digits, as in Lua 5.1, and a format whose result could pass
// MaxStringBytes is refused before anything is built.
func boundedFormat(original *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		format := L.CheckString(1)
		if formatBound(L, format) > MaxStringBytes {
			tooLarge(L, "string.format", MaxStringBytes, "bytes")
		}
		if s, ok := fastFormat(L, format); ok { // formatfast.go
			L.Push(lua.LString(s))
			return 1
		}
		return callThrough(L, original)
	}
}

// formatBound is an upper bound on the length of string.format(format,
// ...) with the arguments on L's stack; it raises an error for a width or
// precision of more than two digits.
func formatBound(L *lua.LState, format string) int {
	bound, arg := len(format), 2
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0 {
			i++
		}
		i = skipDigits(L, format, i)
		if i < len(format) && format[i] == '.' {
			i = skipDigits(L, format, i+1)
		}
		bound += 100 + argBound(L.Get(arg))
		if i < len(format) && format[i] == 'q' {
			bound += argBound(L.Get(arg)) + 2
		}
		arg++
	}
	return bound
}

// skipDigits skips the digits of a width or precision at format[i:],
// raising an error past maxFormatDigits.
func skipDigits(L *lua.LState, format string, i int) int {
	start := i
	for i < len(format) && format[i] >= '0' && format[i] <= '9' {
		i++
	}
	if i-start > maxFormatDigits {
		L.RaiseError("invalid format (width or precision too long)")
	}
	return i
}

// argBound bounds the text one string.format argument can produce.
func argBound(v lua.LValue) int {
	if s, ok := v.(lua.LString); ok {
		return len(s)
	}
	return 64 // a number, or a type name and an address
}

// boundedGsub is string.gsub(s, pattern, repl [, n]) in linear time (the
// stock one copies the whole string at every match), with its result
// bounded by MaxStringBytes. repl is a string (with %0-%9 for captures and
// %% for %), a table or a function, as in Lua 5.1.
func boundedGsub(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := L.OptInt(4, -1)
	// Each match of a plain string repl adds len(repl) bytes: past
	// MaxStringBytes/len(repl) matches the result is too large, so there
	// is no need to find them all first.
	most := -1
	if r, ok := repl.(lua.LString); ok && len(r) > 0 && strings.IndexByte(string(r), '%') < 0 {
		most = MaxStringBytes / len(r)
		if limit < 0 || limit > most+1 {
			limit = most + 1
		}
	}
	matches, err := pm.Find(pattern, []byte(s), 0, limit)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	if most >= 0 && len(matches) > most {
		tooLarge(L, "string.gsub", MaxStringBytes, "bytes")
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		start, end := m.Capture(0), m.Capture(1)
		put(L, &b, s[last:start])
		put(L, &b, replacement(L, s, m, repl))
		last = end
	}
	put(L, &b, s[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(len(matches)))
	return 2
}

// put appends text to b unless that would pass MaxStringBytes.
func put(L *lua.LState, b *strings.Builder, text string) {
	if b.Len()+len(text) > MaxStringBytes {
		tooLarge(L, "string.gsub", MaxStringBytes, "bytes")
	}
	b.WriteString(text)
}

// replacement is what string.gsub puts in place of the match m of s.
func replacement(L *lua.LState, s string, m *pm.MatchData, repl lua.LValue) string {
	whole := s[m.Capture(0):m.Capture(1)]
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString:
		return expandRepl(L, s, m, string(r))
	case *lua.LTable:
		v = L.GetTable(r, capture(L, s, m, 1))
	case *lua.LFunction:
		n := max(1, m.CaptureLength()/2-1)
		L.Push(r)
		for i := 1; i <= n; i++ {
			L.Push(capture(L, s, m, i))
		}
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	if lua.LVIsFalse(v) {
		return whole
	}
	if !lua.LVCanConvToString(v) {
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
	return lua.LVAsString(v)
}

// capture is capture i (1-based) of the match m, the whole match when the
// pattern has no captures; a position capture is a number.
func capture(L *lua.LState, s string, m *pm.MatchData, i int) lua.LValue {
	idx := 2 * i
	if idx >= m.CaptureLength() {
		if i != 1 {
			L.RaiseError("invalid capture index")
		}
		idx = 0
	}
	if m.IsPosCapture(idx) {
		return lua.LNumber(m.Capture(idx))
	}
	return lua.LString(s[m.Capture(idx):m.Capture(idx+1)])
}

// expandRepl is a string repl with %0 (the whole match), %1-%9 (the
// captures) and %x (the character x) replaced.
func expandRepl(L *lua.LState, s string, m *pm.MatchData, repl string) string {
	if strings.IndexByte(repl, '%') < 0 {
		return repl
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i+1 == len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		c = repl[i]
		switch {
		case c == '0':
			b.WriteString(s[m.Capture(0):m.Capture(1)])
		case c >= '1' && c <= '9':
			b.WriteString(lua.LVAsString(capture(L, s, m, int(c-'0'))))
		default:
			b.WriteByte(c)
		}
		if b.Len() > MaxStringBytes {
			tooLarge(L, "string.gsub", MaxStringBytes, "bytes")
		}
	}
	return b.String()
}
