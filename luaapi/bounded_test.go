package luaapi

import (
	"strings"
	"testing"
	"time"
)

// TestBoundedBuiltinsKeepLua51Semantics: the replacements answer as Lua 5.1
// (and the stock gopher-lua) do for ordinary input.
func TestBoundedBuiltinsKeepLua51Semantics(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
local function same(got, want) assert(got == want, tostring(got) .. ' ~= ' .. tostring(want)) end
local function list(...) return table.concat({...}, ',') end
same(list(unpack({1, 2, 3})), '1,2,3')
same(list(unpack({1, 2, 3}, 2)), '2,3')
same(select('#', unpack({}, 1, 0)), 0)
same(select('#', unpack({}, 1, 3)), 3)
same(string.byte('abc'), 97)
same(string.byte('abc', -1), 99)
same(list(string.byte('abc', 1, -1)), '97,98,99')
same(select('#', string.byte('abc', 10)), 0)
same(list(('abc'):byte(2, 3)), '98,99')
same(string.char(104, 105), 'hi')
same(string.char(), '')
same(table.concat({1, 2, 3}, ', '), '1, 2, 3')
same(table.concat({}, 'x'), '')
same(table.concat({'a', 'b', 'c'}, '-', 2, 3), 'b-c')
same(table.concat({'a', 'b'}, '-', 3), '')
same(string.format('%5.2f|%s=%d|%-3s|%%', 3.14159, 'a', 5, 'x'), ' 3.14|a=5|x  |%')
same(string.rep('ab', 3), 'ababab')
same(list(('hello world'):gsub('o', '0')), 'hell0 w0rld,2')
same(list(('hello world'):gsub('%w+', '<%0>')), '<hello> <world>,2')
same(list(('hello world'):gsub('(%w+) (%w+)', '%2 %1')), 'world hello,1')
same(list(('hello world'):gsub('o', '0', 1)), 'hell0 world,1')
same(list(('50%'):gsub('%%', '%%%%')), '50%%,1')
same(list(('$name is $age'):gsub('%$(%w+)', {name = 'Ann', age = 7})), 'Ann is 7,2')
same(list(('a b c'):gsub('%w', function(c) if c ~= 'b' then return c:upper() end end)), 'A b C,3')
same(list(('abc'):gsub('()b', function(p) return '[' .. p .. ']' end)), 'a[2]c,1')
same(list(('abc'):gsub('', '-')), '-a-b-c-,4')
same(list(('  x  '):gsub('^%s+', '')), 'x  ,1')
assert(not pcall(table.concat, {1, {}}))
assert(not pcall(string.char, 256))
`)
}

// TestBuiltinsRefuseHugeResultsAtOnce: one call of a built-in cannot run
// for seconds or build a huge string; it raises "result too large" at once.
func TestBuiltinsRefuseHugeResultsAtOnce(t *testing.T) {
	for _, src := range []string{
		`unpack({}, 1, 1e7)`,
		`string.byte(string.rep('x', 1e6), 1, -1)`,
		`local t = {} for i = 1, 3e5 do t[i] = 65 end string.char(unpack(t))`,
		`string.rep('x', 1e10)`,
		`local t = {} for i = 1, 2000 do t[i] = string.rep('x', 1024) end table.concat(t)`,
		`string.format(string.rep('%99s', 20000), 'x')`,
		`string.format('%s%s', string.rep('x', 6e5), string.rep('y', 6e5))`,
		`string.rep('x', 1e6):gsub('x', 'yy')`,
		`string.rep('x', 1e3):gsub('x', string.rep('y', 2e3))`,
		`string.rep('x', 1e3):gsub('x', function() return string.rep('y', 2e3) end)`,
	} {
		e := newTestEnv(t)
		start := time.Now()
		err := e.runErr(src)
		if err == nil || !strings.Contains(err.Error(), "result too large") {
			t.Errorf("%s: err = %v", src, err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second { // the scripts' time budget
			t.Errorf("%s took %v", src, elapsed)
		}
	}
	e := newTestEnv(t)
	if err := e.runErr(`string.format('%999d', 1)`); err == nil || !strings.Contains(err.Error(), "width or precision too long") {
		t.Errorf("a three-digit width: err = %v", err)
	}
}

// TestGsubIsLinear: the stock gsub copies the whole string at every match
// (200,000 matches of a 200 KB string: seconds in one uninterruptible call).
func TestGsubIsLinear(t *testing.T) {
	e := newTestEnv(t)
	start := time.Now()
	e.run(t, `local s, n = string.rep('x', 2e5):gsub('x', 'y') assert(n == 2e5 and s == string.rep('y', 2e5))`)
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("gsub of 200,000 matches took %v", elapsed)
	}
}

// TestStringLibraryIsReadOnly: every caller shares the state's string
// metatable; no script can change string methods for the others.
func TestStringLibraryIsReadOnly(t *testing.T) {
	e := newTestEnv(t)
	for _, attack := range []string{
		`getmetatable('').__index = {rep = function() return 'pwned' end}`,
		`getmetatable('').__index.rep = function() return 'pwned' end`,
		`string.rep = function() return 'pwned' end`,
		`rawset(string, 'rep', function() return 'pwned' end)`,
		`setmetatable(string, nil)`,
		`debug.setmetatable('', {__index = {rep = function() return 'pwned' end}})`,
		`debug.setmetatable(string, nil)`,
		`debug.setmetatable(1, {__index = function() return 'pwned' end})`,
		`setmetatable(1, {__index = function() return 'pwned' end})`,
	} {
		if err := e.runErr(attack); err == nil {
			t.Errorf("%s: no error", attack)
		}
	}
	e.run(t, `
assert(('ab'):rep(2) == 'abab')
assert(string.rep('x', 2) == 'xx')
assert(getmetatable('').__index == string)
assert(debug.getmetatable('') == getmetatable(''))
assert(getmetatable(string) == false)
assert(type(string.format) == 'function')
assert(math.floor(1.5) == 1)
local t = setmetatable({}, {__index = function() return 1 end})
assert(t.x == 1)
`)
}
