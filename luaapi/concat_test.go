package luaapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConcatKeepsLua51Semantics: chunks compiled with bounded `..` join
// as the VM does: numbers, chains, calls and ... giving one value,
// __concat metamethods from the right, errors for nil with the line.
func TestConcatKeepsLua51Semantics(t *testing.T) {
	e := newTestEnv(t)
	if err := runBounded(e, `
local function same(got, want) assert(got == want, tostring(got) .. ' ~= ' .. tostring(want)) end
local function two() return 'a', 'b' end
local function vararg(...) return ... .. '!' end
same('x' .. 1 .. 2.5, 'x12.5')
same(1 .. '', '1')
same('a' .. two() .. 'c', 'aac')
same(two() .. two(), 'aa')
same(vararg('p', 'q'), 'p!')
same(select('#', 'a' .. 'b'), 1)
same(#('ab' .. 'cd'), 4)
local mt = {__concat = function(a, b)
  local x = type(a) == 'table' and a.v or a
  local y = type(b) == 'table' and b.v or b
  return '(' .. x .. '+' .. y .. ')'
end}
local o = setmetatable({v = 'o'}, mt)
same(o .. 'z', '(o+z)')
same('z' .. o, '(z+o)')
same('a' .. 'b' .. o, 'a(b+o)')
same(o .. 'b' .. 'c', '(o+bc)')
local t = {}
for i = 1, 3 do t[#t + 1] = 'n' .. i end
same(table.concat(t, ','), 'n1,n2,n3')
local ok, err = pcall(function() return 'a' .. nil end)
assert(not ok and err:find('concat'), err)
same(loadstring('return "l" .. 1')(), 'l1')
local parts, i = {'return 2 .. ', '"x"'}, 0
same(load(function() i = i + 1 return parts[i] end)(), '2x')
`); err != nil {
		t.Fatal(err)
	}
	err := runBounded(e, "local x\nlocal y = 'a' .. x")
	if err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("concat with nil: err = %v, want the line", err)
	}
}

// TestConcatIsBounded: `..` refuses results over MaxStringBytes at once,
// in every way a chunk can be loaded; a doubling loop, or one chain of
// many operands, stops at the bound instead of building gigabytes.
func TestConcatIsBounded(t *testing.T) {
	dir := t.TempDir()
	attack := "local s = string.rep('x', 1024) while true do s = s .. s end"
	chain := "local s = string.rep('x', 2^19) local u = s .. s .. s .. s .. s .. s .. s .. s"
	if err := os.WriteFile(filepath.Join(dir, "doubler.lua"), []byte(attack), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	e.run(t, "package.path = '"+dir+"/?.lua;' .. package.path")
	for _, src := range []string{
		attack,
		chain,
		"loadstring(" + quote(attack) + ")()",
		"dofile('" + dir + "/doubler.lua')",
		"loadfile('" + dir + "/doubler.lua')()",
		"require 'doubler'",
	} {
		start := time.Now()
		err := runBounded(e, src)
		if err == nil || !strings.Contains(err.Error(), "result too large") {
			t.Errorf("%s: err = %v", src, err)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("%s took %v", src, elapsed)
		}
	}
	if err := runBounded(e, `
local f = loadstring('return function(a) return a .. a end')()
local i = 1
while true do
  local name = debug.getupvalue(f, i)
  if name == nil then error('no concatenation upvalue') end
  if name == '(concat)' then debug.setupvalue(f, i, function(a) return a end) end
  i = i + 1
end`); err == nil || !strings.Contains(err.Error(), "cannot be changed") {
		t.Errorf("replacing the concatenation: err = %v", err)
	}
}

// runBounded compiles src as the board loads scripts (with bounded
// concatenation) and runs it.
func runBounded(e *testEnv, src string) error {
	fn, err := LoadString(e.L, src, "test")
	if err != nil {
		return err
	}
	e.L.Push(fn)
	return e.L.PCall(0, 0, nil)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }
