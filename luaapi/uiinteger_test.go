package luaapi

import "testing"

func TestUIInteger(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		require 'ui'
		local cases = {
			{ui.integer('42'), 42},
			{ui.integer('  7 \r\n'), 7},
			{ui.integer('-3'), -3},
			{ui.integer('0x1F'), 31},
			{ui.integer('1e2'), nil},          -- tonumber reads no exponent without a point
			{ui.integer('1.5e2'), 150},
			{ui.integer('2.0'), 2},
			{ui.integer('2.5'), nil},
			{ui.integer(''), nil},
			{ui.integer('q'), nil},
			{ui.integer('12abc'), nil},
			{ui.integer('nan'), nil},
			{ui.integer('inf'), nil},
			{ui.integer('1e400'), nil},
			{ui.integer('5', 1, 10), 5},
			{ui.integer('1', 1, 10), 1},
			{ui.integer('10', 1, 10), 10},
			{ui.integer('0', 1, 10), nil},
			{ui.integer('11', 1, 10), nil},
			{ui.integer('-1', 0), nil},
			{ui.integer('99999', 0), 99999},
		}
		for i, c in ipairs(cases) do
			assert(c[1] == c[2], ('case %d: got %s, want %s'):format(i, tostring(c[1]), tostring(c[2])))
		end
	`)
}

// TestUIIntegerReadsAsTonumberDoes: for what callers type, ui.integer(s,
// lo, hi) is the whole number tonumber(ui.trim(s)) reads, when it lies in
// lo..hi, as the shipped doors checked it before ui.integer.
func TestUIIntegerReadsAsTonumberDoes(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `
		require 'ui'
		local function by_hand(s, lo, hi)
			local n = tonumber(ui.trim(s))
			if not n or n ~= math.floor(n) or n < lo or n > hi then return nil end
			return n
		end
		local typed = {'1', '50', '100', '101', '0', ' 17 ', '\t3', '3.5', '4.0', '1e1', '0x10',
			'010', '+5', '-0', '', ' ', 'Q', 'q', '5x', 'x5', '1_0', '0b11', '0o7', '1e', '.5e1', '1.e2', '0X1f', '0x', '0x-5', '-0x5', '9007199254740993', 'Inf', '-inf', 'NaN', '1.5e400'}
		for _, range in ipairs({{1, 100}, {-math.huge, math.huge}}) do
			local lo, hi = range[1], range[2]
			for _, s in ipairs(typed) do
				local want, got = by_hand(s, lo, hi), ui.integer(s, lo, hi)
				assert(got == want, ('%q in %s..%s: got %s, want %s'):format(s, lo, hi, tostring(got), tostring(want)))
			end
		end
	`)
}
