package luaapi

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// BenchmarkMenuRenderWithRules draws the shipped board's main menu
// shape (14 items: 7 for users, the sysop's, one with an access rule)
// for a logged-in caller: menu.render with its one users.allowed_all
// call, levels from the cache (no journal: see the session benchmarks
// for a whole prompt); "none" is the same menu without a rule.
func BenchmarkMenuRenderWithRules(b *testing.B) {
	b.Run("rules", func(b *testing.B) { benchmarkMenuRender(b, true) })
	b.Run("none", func(b *testing.B) { benchmarkMenuRender(b, false) })
}

func benchmarkMenuRender(b *testing.B, rules bool) {
	e := newAccountsEnv(b)
	e.L.SetGlobal("with_rules", lua.LBool(rules))
	e.run(b, sysopAnnBob)
	e.run(b, `
		assert(users.set_group('ann', 'cosysop'))
		assert(db.auth_user('ann', 'pw'))
		local menu = require 'menu'
		local items = {}
		for i, key in ipairs({'1', '2', '3', '4', '5', '6', '7', '8', 'B', 'M', 'D', 'S', 'C', 'Q'}) do
			items[i] = {key = key, label = 'Item ' .. key, action = 'back'}
		end
		if with_rules then
			for _, i in ipairs({1, 3, 6, 8, 9, 10, 11}) do items[i].level = 'user' end
			items[12].level = 'sysop'
			items[13].access = "level >= 20 and group('cosysop')"
		end
		m = menu.new {title = 'MAIN MENU', items = items}
		render = function() return menu.render(m) end
	`)
	render := e.L.GetGlobal("render")
	b.ReportAllocs()
	for b.Loop() {
		if err := e.L.CallByParam(lua.P{Fn: render, NRet: 1, Protect: true}); err != nil {
			b.Fatal(err)
		}
		e.L.Pop(1)
	}
}
