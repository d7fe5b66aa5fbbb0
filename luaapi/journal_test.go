package luaapi

import (
	"sort"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// storeReads are the journaled calls that only read: with storeWrites,
// every Go function of a journaled module must be in one of them, so that
// a new function is classified when it is added.
var storeReads = map[string]bool{
	"db.user_exists": true, "db.message_count": true, "db.message_read": true, "db.inbox_count": true,
	"callers.online": true,
	"users.me":       true, "users.info": true, "users.list": true, "users.is_sysop": true, "users.allowed": true,
	"users.last_callers": true, "users.wall": true,
	"door.list": true, "door.user": true, "door.who": true, "door.now": true, "door.today": true, "door.random": true,
	"board.areas": true, "board.area": true, "board.count": true, "board.list": true, "board.read": true,
	"board.thread": true, "board.new_count": true, "board.last_read": true,
	"mail.list": true, "mail.count": true, "mail.unread": true,
	"door.game.get": true, "door.game.get_global": true, "door.game.top": true,
}

func TestEveryJournaledCallIsAReadOrAWrite(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	loaders := map[string]lua.LGFunction{
		"db": (&DB{}).Loader, "callers": (&Callers{}).Loader, "users": (&Users{}).Loader,
		"door": (&Door{}).Loader, "board": (&Board{}).Loader, "mail": (&Mail{}).Loader,
	}
	var names []string
	for module, load := range loaders {
		if !journaledModules[module] {
			t.Errorf("module %s is not journaled", module)
		}
		load(L)
		L.Get(-1).(*lua.LTable).ForEach(func(k, v lua.LValue) {
			if fn, ok := v.(*lua.LFunction); ok && fn.IsG {
				names = append(names, module+"."+k.String())
			}
		})
		L.Pop(1)
	}
	for name := range storeWrites {
		if len(name) > len("door.game.") && name[:len("door.game.")] == "door.game." {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if notJournaled[name] {
			continue
		}
		if storeReads[name] == WritesStore(name) {
			t.Errorf("%s is classified as both or neither a read and a write", name)
		}
	}
	for name := range storeWrites {
		found := false
		for _, n := range names {
			found = found || n == name
		}
		if !found {
			t.Errorf("storeWrites names %s, which no module has", name)
		}
	}
}
