package luaapi

import (
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// callLog is a Recorder that notes each call, as a read or a write,
// without running it.
type callLog map[string]bool

func (c callLog) Call(L *lua.LState, name string, writes bool, fn lua.LGFunction) int {
	c[name] = writes
	return 0
}

// TestEveryHostCallGoesThroughTheRecorder calls every Go function of the
// journaled modules, and every method of a door handle, on a state opened
// with a Recorder: each must reach it, under its module's name, as the
// read or write its function table says.
func TestEveryHostCallGoesThroughTheRecorder(t *testing.T) {
	calls := callLog{}
	L := lua.NewState()
	t.Cleanup(L.Close)
	// users.time_left is a host call when the host keeps time limits.
	noLimit := func(*lua.LState) (time.Duration, bool) { return 0, false }
	if err := New(Deps{Screens: screenMap{}, Recorder: calls, TimeLeft: noLimit}).Open(L); err != nil {
		t.Fatal(err)
	}
	err := L.DoString(`
		local called = {}
		for _, name in ipairs({'db', 'callers', 'users', 'door', 'board', 'mail'}) do
			for key, fn in pairs(require(name)) do
				-- door.external declares a door (the same answer every time);
				-- the run it returns, and door.server's call, are journaled by the
				-- session (nativedoor.go, doorserver.go).
				if name ~= 'door' or key ~= 'open' and key ~= 'external' and key ~= 'server' then
					fn()
					called[#called + 1] = name .. '.' .. key
				end
			end
		end
		local game = require('door').open('guess')
		for _, key in ipairs({'get', 'set', 'add', 'get_global', 'set_global', 'add_global', 'top'}) do
			game[key](game)
			called[#called + 1] = 'door.game.' .. key
		end
		return table.concat(called, ' ')
	`)
	if err != nil {
		t.Fatal(err)
	}
	called := strings.Fields(L.Get(-1).String())
	sort.Strings(called)
	for _, name := range called {
		if _, ok := calls[name]; !ok {
			t.Errorf("%s does not go through the Recorder", name)
		}
	}
	if len(called) != len(calls) {
		t.Errorf("%d functions called, %d recorded: %v", len(called), len(calls), calls)
	}
	// A sample of each kind, as the tables say.
	for name, writes := range map[string]bool{
		"db.post_message": true, "db.read_inbox": true, "db.message_count": false,
		"callers.page": true, "callers.online": false, "users.ban": true, "users.wall": false,
		"board.mark_read": true, "board.list": false, "mail.delete": true, "mail.unread": false,
		"door.game.add_global": true, "door.game.top": false, "door.random": false,
	} {
		if got, ok := calls[name]; !ok || got != writes {
			t.Errorf("%s: recorded %v (writes=%v), want writes=%v", name, ok, got, writes)
		}
	}
}

// TestStandardCallsGoThroughTheRecorder: the clock and chance are
// journaled too, as reads.
func TestStandardCallsGoThroughTheRecorder(t *testing.T) {
	calls := callLog{}
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := New(Deps{Screens: screenMap{}, Recorder: calls}).Open(L); err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(`os.time() os.date() os.clock() math.random()`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"os.time", "os.date", "os.clock", "math.random"} {
		if writes, ok := calls[name]; !ok || writes {
			t.Errorf("%s: recorded %v, writes %v; want a read", name, ok, writes)
		}
	}
}
