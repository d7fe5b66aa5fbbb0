package luaapi

import (
	"testing"
)

func TestUIStringHelpers(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		require 'ui'
		local function list(t) return '[' .. table.concat(t, '|') .. ']' end
		local cases = {
			{ui.trim('  ann \t\r\n'), 'ann'},
			{ui.trim(''), ''},
			{ui.trim(' \v\f '), ''},
			{ui.trim('a b'), 'a b'},
			{ui.trim('\194\160x'), '\194\160x'},   -- only ASCII white space, like %s
			{list(ui.split('a,b,,c', ',')), '[a|b||c]'},
			{list(ui.split('', ',')), '[]'},
			{list(ui.split('a.b', '.')), '[a|b]'},      -- plain, not a pattern
			{list(ui.split('k=v=w', '=', 2)), '[k|v=w]'},
			{list(ui.split('a::b', '::')), '[a|b]'},
			{list(ui.words('  D   2 \t x ')), '[D|2|x]'},
			{list(ui.words('one two three', 2)), '[one|two]'},
			{list(ui.words('   ')), '[]'},
			{ui.clean('a\27]0;t\7b\27[2J|04c\nd'), 'ab|04c\nd'},
			{ui.plain('a\27]0;t\7b|04c'), 'ab||04c'},
		}
		for i, c in ipairs(cases) do
			assert(c[1] == c[2], ('case %d: got %q, want %q'):format(i, c[1], c[2]))
		end
		assert(not pcall(ui.split, 'a', ''), 'an empty separator is an error')
		assert(not pcall(ui.words, 'a', 0), 'a limit below 1 is an error')
	`)
}
