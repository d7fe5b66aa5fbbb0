package luaapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// memDoors is an in-memory store.DoorStore. The other modules' calls are
// not faked: calling one panics on the nil embedded Store.
type memDoors struct {
	store.Store
	data     map[[3]string][]byte
	failWith error
}

func newMemDoors() *memDoors { return &memDoors{data: map[[3]string][]byte{}} }

func (m *memDoors) DoorGet(_ context.Context, door, user, key string) ([]byte, bool, error) {
	if m.failWith != nil {
		return nil, false, m.failWith
	}
	v, ok := m.data[[3]string{door, user, key}]
	return v, ok, nil
}

func (m *memDoors) DoorSet(_ context.Context, door, user, key string, value []byte) error {
	if m.failWith != nil {
		return m.failWith
	}
	if len(value) > store.MaxDoorValueBytes {
		return fmt.Errorf("%w: too large", store.ErrDoorValue)
	}
	m.data[[3]string{door, user, key}] = append([]byte(nil), value...)
	return nil
}

func (m *memDoors) DoorDelete(_ context.Context, door, user, key string) error {
	delete(m.data, [3]string{door, user, key})
	return m.failWith
}

func (m *memDoors) DoorAdd(ctx context.Context, door, user, key string, delta float64) (float64, error) {
	var f float64
	if v, ok, _ := m.DoorGet(ctx, door, user, key); ok {
		if _, err := fmt.Sscan(string(v), &f); err != nil {
			return 0, store.ErrDoorValue
		}
	}
	f += delta
	return f, m.DoorSet(ctx, door, user, key, []byte(fmt.Sprint(f)))
}

func (m *memDoors) DoorTop(_ context.Context, door, key string, n int, order store.DoorOrder) ([]store.DoorEntry, error) {
	var top []store.DoorEntry
	for k, v := range m.data {
		var f float64
		if k[0] != door || k[2] != key || k[1] == "" {
			continue
		}
		if _, err := fmt.Sscan(string(v), &f); err == nil {
			top = append(top, store.DoorEntry{User: k[1], Score: f})
		}
	}
	sort.Slice(top, func(i, j int) bool {
		if order == store.LowestFirst {
			return top[i].Score < top[j].Score
		}
		return top[i].Score > top[j].Score
	})
	return top[:min(n, len(top))], m.failWith
}

// doorState is a Lua state opened with the API wired from deps, whose
// store is an in-memory one unless deps has one; the caller is whoever
// *user names.
func doorState(t *testing.T, deps Deps, user *string) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	if deps.Store == nil {
		deps.Store = newMemDoors()
	}
	if user != nil {
		deps.User = func(*lua.LState) string { return *user }
	}
	if err := New(deps).Open(L); err != nil {
		t.Fatal(err)
	}
	return L
}

func runLua(t *testing.T, L *lua.LState, src string) {
	t.Helper()
	if err := L.DoString(src); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

func TestDoorDataPerCallerAndShared(t *testing.T) {
	user := "kim"
	L := doorState(t, Deps{}, &user)
	runLua(t, L, `
		door = require 'door'
		local game = assert(door.open('dragon'))
		assert(game.name == 'dragon' and game.user == 'kim', tostring(game))
		assert(game:get('hero') == nil)
		assert(game:set('hero', {level = 3, items = {'sword', 'lamp'}, alive = true}))
		local hero = game:get('hero')
		assert(hero.level == 3 and hero.items[2] == 'lamp' and hero.alive == true)
		assert(game:get_global('hero') == nil, 'global data is apart from the caller')
		assert(game:set_global('king', 'kim'))
		assert(game:add('kills', 2) == 2 and game:add('kills') == 3)
		assert(game:add_global('kills', 5) == 5)
		assert(door.open('guess'):get('hero') == nil, 'each door has its own data')
	`)
	user = "lee"
	runLua(t, L, `
		local game = door.open('dragon')
		assert(game.user == 'lee')
		assert(game:get('hero') == nil, 'lee does not see kim')
		assert(game:get_global('king') == 'kim', 'everyone sees global data')
		assert(game:add('kills', 7) == 7)
		assert(game:set('hero', nil) and game:get('hero') == nil)
	`)
	user = "kim"
	runLua(t, L, `
		local game = door.open('dragon')
		assert(game:set('hero', nil))
		assert(game:get('hero') == nil, 'set nil deletes')
		local top = game:top('kills', 10)
		assert(#top == 2 and top[1].user == 'lee' and top[1].score == 7 and top[1].rank == 1, top[1].user)
		assert(top[2].user == 'kim' and top[2].rank == 2)
		local low = game:top('kills', 1, 'low')
		assert(#low == 1 and low[1].user == 'kim')
	`)
}

func TestDoorBeforeLogin(t *testing.T) {
	user := ""
	L := doorState(t, Deps{}, &user)
	runLua(t, L, `
		door = require 'door'
		assert(door.user() == nil)
		local game = door.open('guess')
		assert(game.user == nil)
		local v, err = game:get('best')
		assert(v == nil and err == 'no caller is logged in', err)
		v, err = game:set('best', 1)
		assert(v == nil and err == 'no caller is logged in', err)
		v, err = game:add('best', 1)
		assert(v == nil and err == 'no caller is logged in', err)
		assert(game:set_global('plays', 1), 'global data needs no login')
	`)
	// Without a User function at all, nobody is logged in either.
	L = doorState(t, Deps{}, nil)
	runLua(t, L, `
		local door = require 'door'
		assert(door.user() == nil and door.open('guess').user == nil)
	`)
}

func TestDoorMisuseAndFailures(t *testing.T) {
	user := "kim"
	doors := newMemDoors()
	L := doorState(t, Deps{Store: doors}, &user)
	runLua(t, L, `
		door = require 'door'
		local game, err = door.open('No Such/Door')
		assert(game == nil and err:find('invalid door name'), err)
		game = door.open('guess')
		local ok, e = pcall(function() return game.get('best') end)
		assert(not ok and e:find('with a colon'), e)
		ok, e = pcall(function() return game:set('f', {print}) end)
		assert(not ok and e:find('cannot save'), e)
		ok, e = pcall(function() return game:top('best', 0) end)
		assert(not ok and e:find('between 1 and 100'), e)
		ok, e = pcall(function() return game:top('best', 5, 'sideways') end)
		assert(not ok and e:find("'high' or 'low'"), e)
		local v, err = game:set('big', string.rep('x', 70000))
		assert(v == nil and err:find('^invalid door value'), err)
		assert(game[1] == nil and game.nonsense == nil)
		ok, e = pcall(function() game.name = 'other' end)
		assert(not ok, 'a handle cannot be changed')
	`)
	doors.failWith = fmt.Errorf("store: door get: %w", errors.New("disk on fire"))
	runLua(t, L, `
		local v, err = door.open('guess'):get('best')
		assert(v == nil and err == 'door get: disk on fire', err)
		v, err = door.open('guess'):top('best')
		assert(v == nil and err:find('disk on fire'), err)
	`)
}

func TestDoorWithoutStore(t *testing.T) {
	user := "kim"
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := New(Deps{User: func(*lua.LState) string { return user }}).Open(L); err != nil {
		t.Fatal(err)
	}
	runLua(t, L, `
		local game = require('door').open('guess')
		local v, err = game:get('best')
		assert(v == nil and err == 'door data cannot be saved on this board', err)
		v, err = game:set_global('best', 1)
		assert(v == nil and err == 'door data cannot be saved on this board', err)
	`)
}

func TestDoorRandomIsSeedable(t *testing.T) {
	draw := func(seed uint64) string {
		L := doorState(t, Deps{Rand: rand.New(rand.NewPCG(seed, 1))}, nil)
		runLua(t, L, `
			door = require 'door'
			draws = {}
			for i = 1, 200 do
				local a, b, c = door.random(1, 100), door.random(6), door.random(-3, -3)
				assert(a >= 1 and a <= 100 and a == math.floor(a), a)
				assert(b >= 1 and b <= 6, b)
				assert(c == -3)
				local f = door.random()
				assert(f >= 0 and f < 1, f)
				draws[#draws + 1] = a
			end
			draws = table.concat(draws, ',', 1, 20)
		`)
		return L.GetGlobal("draws").String()
	}
	if a, b := draw(7), draw(7); a != b {
		t.Errorf("same seed, different draws:\n%s\n%s", a, b)
	}
	if a, b := draw(7), draw(8); a == b {
		t.Errorf("different seeds, same draws: %s", a)
	}
	L := doorState(t, Deps{}, nil)
	runLua(t, L, `
		door = require 'door'
		local x = door.random(1, 3)
		assert(x >= 1 and x <= 3)
		local ok, e = pcall(door.random, 5, 1)
		assert(not ok and e:find('interval is empty'), e)
		ok, e = pcall(door.random, 0)
		assert(not ok and e:find('interval is empty'), e)
		ok, e = pcall(door.random, 1, 2^60)
		assert(not ok and e:find('too large'), e)
	`)
}

func TestDoorClock(t *testing.T) {
	at := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	d := Deps{Now: func() time.Time { return at }, Location: time.FixedZone("east", 2*3600)}
	L := doorState(t, d, nil)
	runLua(t, L, `
		door = require 'door'
		now, today = door.now(), door.today()
	`)
	if got := L.GetGlobal("now"); got != lua.LNumber(at.Unix()) {
		t.Errorf("door.now() = %v; want %d", got, at.Unix())
	}
	if got := L.GetGlobal("today").String(); got != "2026-03-02" {
		t.Errorf("door.today() = %s; want the date in the host's zone, 2026-03-02", got)
	}
}

func TestDoorWho(t *testing.T) {
	d := Deps{Who: func() []OnlineCaller {
		return []OnlineCaller{{ConnID: "1", User: "kim"}, {ConnID: "2"}, {ConnID: "3", User: "lee"}, {ConnID: "4", User: "KIM"}}
	}}
	runLua(t, doorState(t, d, nil), `
		local who = require('door').who()
		assert(#who == 2 and who[1] == 'kim' and who[2] == 'lee', table.concat(who, ','))
	`)
	runLua(t, doorState(t, Deps{}, nil), `assert(#require('door').who() == 0)`)
}

func TestDoorList(t *testing.T) {
	dir := t.TempDir()
	doors := filepath.Join(dir, "doors")
	for _, name := range []string{"trader.lua", "guess.lua", "a-b.lua", "a.lua", "README.md", "Bad Name.lua", "sub.lua/x"} {
		path := filepath.Join(doors, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("return {}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ dir, want string }{
		{dir, "a,a-b,guess,trader"},
		{"", ""},
		{filepath.Join(dir, "missing"), ""},
	} {
		L := doorState(t, Deps{ScriptsDir: c.dir}, nil)
		runLua(t, L, `names = table.concat(assert(require('door').list()), ',')`)
		if got := L.GetGlobal("names").String(); got != c.want {
			t.Errorf("door.list() in %q = %q; want %q", c.dir, got, c.want)
		}
	}
}
