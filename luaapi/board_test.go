package luaapi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// newBoardState is a Lua state with the board and mail modules over a
// fresh database holding the users ann, bob and cy.
func newBoardState(t *testing.T) (*lua.LState, *store.SQLite) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, name := range []string{"ann", "bob", "cy"} {
		if err := db.RegisterUser(context.Background(), name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.PreloadModule("board", (&Board{Store: db}).Loader)
	L.PreloadModule("mail", (&Mail{Store: db}).Loader)
	return L, db
}

// runLuaOK runs src and fails the test with Lua's error.
func runLuaOK(t *testing.T, L *lua.LState, src string) {
	t.Helper()
	if err := L.DoString(src); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

func TestBoardModuleAreasPostsAndThreads(t *testing.T) {
	L, _ := newBoardState(t)
	runLuaOK(t, L, `
		local board = require 'board'
		local areas = assert(board.areas())
		assert(#areas == 1 and areas[1].name == 'general' and areas[1].posts == 0, #areas)

		local tech = assert(board.define_area('tech', 'Computers'))
		assert(tech.name == 'tech' and tech.description == 'Computers' and tech.posts == 0)
		-- The sysop writes descriptions: their colour codes stay.
		local games = assert(board.define_area('games', '|14Games'))
		assert(games.description == '|14Games', games.description)
		local ok, err = board.define_area('no spaces allowed', '')
		assert(ok == nil and err:find('invalid area name'), err)

		local hello = assert(board.post('general', 'ann', 'Hello', {'hi all', ''}))
		local modem = assert(board.post('tech', 'bob', 'Modems', 'two\nlines'))
		local reply = assert(board.post(nil, 'bob', nil, {'hi ann'}, hello))
		local deeper = assert(board.post('general', 'ann', '', {'hi bob'}, reply))
		assert(board.count('general') == 3 and board.count('tech') == 1)
		assert(board.area('TECH').posts == 1)

		local p = assert(board.read(reply))
		assert(p.id == reply and p.area == 'general' and p.author == 'bob', p.author)
		assert(p.subject == 'Re: Hello' and p.parent == hello and p.root == hello, p.subject)
		assert(p.replies == 1 and #p.lines == 1 and p.lines[1] == 'hi ann')
		assert(type(p.time) == 'number' and math.abs(p.time - os.time()) < 60, p.time)
		local first = assert(board.read(hello))
		assert(first.parent == nil and first.root == hello and first.replies == 1)
		assert(#first.lines == 2 and first.lines[2] == '')
		assert(#board.read(modem).lines == 2)

		local list = assert(board.list('general'))
		assert(#list == 3 and list[1].id == deeper and list[3].id == hello)
		assert(list[1].lines == nil, 'a listing carries no lines')
		local oldest = assert(board.list('general', 1, 1, 'oldest'))
		assert(#oldest == 1 and oldest[1].id == reply)
		assert(#assert(board.list('general', 10)) == 0)

		local thread = assert(board.thread(deeper))
		assert(#thread == 3)
		assert(thread[1].id == hello and thread[1].depth == 0)
		assert(thread[2].id == reply and thread[2].depth == 1)
		assert(thread[3].id == deeper and thread[3].depth == 2)

		local none, why = board.read(999)
		assert(none == nil and why == 'no such post', why)
		none, why = board.thread(999)
		assert(none == nil and why == 'no such post', why)
		none, why = board.post('nowhere', 'ann', 's', {'x'})
		assert(none == nil and why:find('no such area'), why)
		none, why = board.post('general', 'zed', 's', {'x'})
		assert(none == nil and why:find('no such user'), why)
		none, why = board.post('general', 'ann', 'two\nlines', {'x'})
		assert(none == nil and why:find('invalid subject'), why)
		none, why = board.post('tech', 'ann', '', {'x'}, hello)
		assert(none == nil and why:find('not found'), why)

		assert(board.delete(modem) == true)
		none, why = board.delete(modem)
		assert(none == nil and why == 'no such post', why)
		assert(board.count('tech') == 0)
	`)
}

func TestBoardModuleNewScan(t *testing.T) {
	L, _ := newBoardState(t)
	runLuaOK(t, L, `
		local board = require 'board'
		assert(board.define_area('tech', ''))
		local a = assert(board.post('general', 'ann', 'a', {'1'}))
		local b = assert(board.post('general', 'ann', 'b', {'2'}))
		local t = assert(board.post('tech', 'ann', 't', {'3'}))
		assert(board.new_count('bob', 'general') == 2)
		assert(board.new_count('bob', 'tech') == 1)

		local p = assert(board.next_new('bob', 'general'))
		assert(p.id == a and p.lines[1] == '1')
		assert(board.new_count('bob', 'general') == 1)
		assert(board.new_count('cy', 'general') == 2, 'another user keeps their pointer')
		assert(board.next_new('bob', 'general').id == b)
		local none, why = board.next_new('bob', 'general')
		assert(none == nil and why == 'no new posts', why)

		assert(board.last_read('bob', 'general') == b)
		assert(board.last_read('cy', 'general') == 0)
		assert(board.mark_read('cy', 'general', a) == true)
		assert(board.last_read('cy', 'general') == a)
		assert(board.new_count('cy', 'general') == 1)
		assert(board.mark_read('cy', 'tech') == true)
		assert(board.new_count('cy', 'tech') == 0)
		none, why = board.mark_read('cy', 'tech', a)
		assert(none == nil and why == 'no such post', why)
		none, why = board.new_count('zed', 'tech')
		assert(none == nil and why:find('no such user'), why)
		none, why = board.next_new('bob', 'nowhere')
		assert(none == nil and why:find('no such area'), why)
	`)
}

func TestBoardModuleMisuseRaises(t *testing.T) {
	for _, src := range []string{
		`board.post('general', 'ann', 's', {true})`,
		`board.post('general', 'ann', 's')`,
		`board.post('general', nil, 's', {'x'})`,
		`board.post('general', 'ann', 's', {'x'}, 'one')`,
		`board.read('x')`,
		`board.read(1.5)`,
		`board.list('general', -1)`,
		`board.list('general', 0, 0)`,
		`board.list('general', 0, 10, 'sideways')`,
		`board.mark_read('ann', 'general', 0)`,
		`board.new_count('ann')`,
	} {
		L, _ := newBoardState(t)
		err := L.DoString(`local board = require 'board' ` + src)
		if err == nil || !strings.Contains(err.Error(), "bad argument") {
			t.Errorf("%s: err = %v, want a bad argument error", src, err)
		}
	}
}

func TestBoardModuleModeratorAndStoreFailures(t *testing.T) {
	L, db := newBoardState(t)
	sysop := false
	L.PreloadModule("modboard", (&Board{Store: db, Moderator: func(*lua.LState) bool { return sysop }}).Loader)
	runLuaOK(t, L, `
		board = require 'modboard'
		id = assert(board.post('general', 'ann', 's', {'x'}))
		local ok, why = board.delete(id)
		assert(ok == nil and why == 'only the sysop may delete posts', why)
	`)
	sysop = true
	runLuaOK(t, L, `assert(board.delete(id) == true)`)
	db.Close()
	runLuaOK(t, L, `
		local v, err = board.areas()
		assert(v == nil and err == 'closed', err)
		v, err = board.list('general')
		assert(v == nil and err == 'closed', err)
	`)
}
