package luaapi

import (
	"math"
	"strconv"
	"strings"
	"unicode"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// String helpers of the ui module, in Go so that their cost is linear in
// the text whatever a caller types: Lua patterns such as s:gsub('%s+$', '')
// are quadratic in gopher-lua (a 4 KB line of spaces took a second).

// luaSpace is what Lua's %s matches: ASCII white space.
const luaSpace = " \t\n\v\f\r"

// MaxSplitParts bounds the list ui.split and ui.words return when the
// script gives no limit.
const MaxSplitParts = 10000

// uiTextFuncs are the ui module's string helpers.
var uiTextFuncs = map[string]lua.LGFunction{
	"trim":    uiTrim,
	"split":   uiSplit,
	"words":   uiWords,
	"clean":   uiClean,
	"plain":   uiPlain,
	"flat":    uiFlat,
	"integer": uiInteger,
}

// ui.trim(s): s without the white space (Lua's %s) at either end.
func uiTrim(L *lua.LState) int {
	L.Push(lua.LString(strings.Trim(L.CheckString(1), luaSpace)))
	return 1
}

// ui.split(s, sep [, max]): the parts of s between occurrences of the
// plain string sep (not a pattern), empty parts included; with max, at
// most max parts, the last holding the rest of s.
func uiSplit(L *lua.LState) int {
	s, sep := L.CheckString(1), L.CheckString(2)
	if sep == "" {
		L.ArgError(2, "empty separator")
	}
	parts := strings.SplitN(s, sep, checkMaxParts(L, 3))
	L.Push(stringTable(L, parts))
	return 1
}

// ui.words(s [, max]): the words of s, split at runs of white space, with
// none empty; with max, at most max words (later ones are dropped).
func uiWords(L *lua.LState) int {
	s := L.CheckString(1)
	max := checkMaxParts(L, 2)
	words := strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && strings.ContainsRune(luaSpace, r) })
	if len(words) > max {
		words = words[:max]
	}
	L.Push(stringTable(L, words))
	return 1
}

// checkMaxParts reads the optional part limit at index n.
func checkMaxParts(L *lua.LState, n int) int {
	max := L.OptInt(n, MaxSplitParts)
	if max < 1 {
		L.ArgError(n, "the limit must be at least 1")
	}
	return max
}

// stringTable is a Lua list of strs.
func stringTable(L *lua.LState, strs []string) *lua.LTable {
	t := L.CreateTable(len(strs), 0)
	for _, s := range strs {
		t.Append(lua.LString(s))
	}
	return t
}

// ui.clean(s): s with nothing a terminal would obey: escape sequences,
// control characters other than tab and newline, DEL and C1 controls
// removed; bytes that are not UTF-8 become U+FFFD. Pipe codes stay.
func uiClean(L *lua.LState) int {
	L.Push(lua.LString(termtext.Clean(L.CheckString(1))))
	return 1
}

// ui.plain(s): s cleaned like ui.clean and with its pipe codes escaped,
// so that ui.display shows it exactly as typed, without colour: for text
// a script got from a caller some other way than the modules' returns
// (which are plain already).
func uiPlain(L *lua.LState) int {
	L.Push(lua.LString(CallerText(L.CheckString(1))))
	return 1
}

// ui.flat(s): s as one line of words, for a line others will see (a chat
// line): cleaned like ui.clean, every run of white space (tabs, newlines,
// wide and no-break spaces included) one space, none at either end, and
// Unicode format characters (bidi overrides and isolates, zero-width
// ones) removed, so that a line can neither pad itself to a row of its
// own nor turn itself around. Pipe codes stay (ui.plain escapes them).
func uiFlat(L *lua.LState) int {
	L.Push(lua.LString(FlatText(L.CheckString(1))))
	return 1
}

// FlatText is ui.flat.
func FlatText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range termtext.CleanLine(s) {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.Is(unicode.Cf, r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ui.integer(s [, min [, max]]): the whole number s spells, read as the
// host's tonumber reads it (white space around it allowed, 0x for
// hexadecimal, a fraction only with a decimal point), or nil when s is not
// a whole number or lies outside min..max: a menu's number or a game's
// guess in one call.
func uiInteger(L *lua.LState) int {
	s := strings.Trim(L.CheckString(1), luaSpace)
	min := float64(L.OptNumber(2, lua.LNumber(math.Inf(-1))))
	max := float64(L.OptNumber(3, lua.LNumber(math.Inf(1))))
	n, ok := parseLuaNumber(s)
	if !ok || math.IsInf(n, 0) || n != math.Trunc(n) || n < min || n > max {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(n))
	return 1
}

// parseLuaNumber reads s as gopher-lua's tonumber does: with a decimal
// point a float, else a decimal integer, or a hexadecimal one after 0x.
func parseLuaNumber(s string) (float64, bool) {
	if strings.Contains(s, ".") {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	base := 10
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	i, err := strconv.ParseInt(s, base, 64)
	return float64(i), err == nil
}
