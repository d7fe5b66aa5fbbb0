package luaapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// MaxDoorList bounds how many installed doors door.list reports.
const MaxDoorList = 200

// maxRandomSpan bounds door.random's range: Lua numbers are float64, whose
// integers are exact up to 2^53.
const maxRandomSpan = 1 << 53

// Door is the door module: what door games need from the host. A door
// game is scripts/doors/NAME.lua; door.open(NAME) gives it its saved data,
// per caller and shared, in a store.DoorStore.
//
// New wires it with the other built-in modules; alone, register it with
// L.PreloadModule("door", d.Loader). Each Lua state should get a Door of
// its own when Rand is set (a *rand.Rand is not safe for concurrent use).
type Door struct {
	// Store keeps the doors' data; without one, saved-data calls return
	// nil and a message.
	Store store.DoorStore
	// Dir is the scripts folder; door.list reports Dir/doors/*.lua.
	Dir string
	// Now is the clock (time.Now when nil); Location is the time zone of
	// door.today's dates (time.Local when nil).
	Now      func() time.Time
	Location *time.Location
	// Rand draws door.random's numbers; nil uses math/rand/v2's global
	// generator. Tests pass a seeded one.
	Rand *rand.Rand
	// User returns the name of the caller whose script runs on L, as the
	// host learnt it at login ("" before login). Per-caller data is saved
	// under that name, so a door cannot write another caller's data.
	User func(L *lua.LState) string
	// Who lists the callers online (the callers module's list); door.who()
	// names those logged in, each once. It is empty when Who is nil.
	Who func() []OnlineCaller
	// Recorder, if set, journals the module's calls and the methods of
	// door handles (New sets it from Deps.Recorder).
	Recorder Recorder
	// External, if set, runs the native doors door.external declares
	// (doorexternal.go); Node, if set, is the node number of the caller
	// whose script runs on L (0: none).
	External ExternalDoors
	Node     func(L *lua.LState) int
	// Servers are the door servers scripts may send callers to
	// (door.servers, door.server: doorserver.go).
	Servers []doorserver.Server
	// ServerRunner, if set, runs door.server's calls.
	ServerRunner DoorServerRunner
}

// doorGame is the handle door.open returns: one door's data, seen as one
// caller (user "" when nobody is logged in).
type doorGame struct {
	name, user string
}

// Loader opens the door module. Its function table marks each call
// a read or a write (see Recorder).
func (d *Door) Loader(L *lua.LState) int {
	methods := hostCalls{
		"get":        reads(perCaller(d.load)),
		"set":        writes(perCaller(d.save)),
		"add":        writes(perCaller(d.sum)),
		"get_global": reads(shared(d.load)),
		"set_global": writes(shared(d.save)),
		"add_global": writes(shared(d.sum)),
		"top":        reads(d.top),
	}.table(L, d.Recorder, "door.game")
	mt := L.NewTable()
	L.SetField(mt, "__index", L.NewClosure(gameIndex, methods))
	L.SetField(mt, "__tostring", L.NewFunction(gameString))
	L.SetField(mt, "__metatable", lua.LString("door"))
	mod := hostCalls{
		"list":   reads(d.list),
		"user":   reads(d.user),
		"node":   reads(d.node),
		"who":    reads(d.who),
		"now":    reads(d.now),
		"today":  reads(d.today),
		"random": reads(d.random),
		// doorserver.go
		"servers": reads(d.servers),
	}.table(L, d.Recorder, "door")
	L.SetField(mod, "open", L.NewClosure(d.open, mt))
	L.SetField(mod, "external", L.NewFunction(d.external))
	L.SetField(mod, "server", L.NewFunction(d.server)) // doorserver.go; journaled by ServerRunner
	L.Push(mod)
	return 1
}

// String names the handle's door and user, for journal digests.
func (g *doorGame) String() string { return "door " + g.name + " for " + g.user }

// gameIndex serves game.name, game.user and the methods (upvalue 1).
func gameIndex(L *lua.LState) int {
	g := checkGame(L, 1)
	key, _ := L.Get(2).(lua.LString)
	switch key {
	case "name":
		L.Push(lua.LString(g.name))
	case "user":
		if g.user == "" {
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LString(g.user))
		}
	default:
		L.Push(L.GetField(L.Get(lua.UpvalueIndex(1)), string(key)))
	}
	return 1
}

// gameString serves tostring(game).
func gameString(L *lua.LState) int {
	g := checkGame(L, 1)
	L.Push(lua.LString(fmt.Sprintf("door %s (%s)", g.name, g.user)))
	return 1
}

// checkGame returns the door handle at stack index n or raises an argument
// error (most often a method called with . instead of :).
func checkGame(L *lua.LState, n int) *doorGame {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if g, ok := ud.Value.(*doorGame); ok {
			return g
		}
	}
	L.ArgError(n, "door expected (call methods as game:get(key), with a colon)")
	return nil
}

// errNoDoorStore is the failure of every saved-data call when the host
// gave the module no store.
var errNoDoorStore = errors.New("door data cannot be saved on this board")

// call runs fn with a deadline derived from the state's context, or fails
// with errNoDoorStore when there is no store.
func (d *Door) call(L *lua.LState, fn func(ctx context.Context) error) error {
	if d.Store == nil {
		return errNoDoorStore
	}
	return storeCall(L, fn)
}

// clock is the current time from Now.
func (d *Door) clock() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// door.open(name) -> game, or nil and a message for a bad name.
func (d *Door) open(L *lua.LState) int {
	name := L.CheckString(1)
	if err := store.CheckDoorName(name); err != nil {
		return fail(L, err)
	}
	g := &doorGame{name: name}
	if d.User != nil {
		g.user = d.User(L)
	}
	ud := L.NewUserData()
	ud.Value = g
	ud.Metatable = L.Get(lua.UpvalueIndex(1))
	L.Push(ud)
	return 1
}

// errNoCaller is the failure of per-caller calls before login.
var errNoCaller = errors.New("no caller is logged in")

// gameOp is a game method's work on the game's data: door's data of user,
// or its shared data when user is "".
type gameOp func(L *lua.LState, door, user string) int

// perCaller makes the game method that runs op on the data of the game's
// caller, or returns nil and a message when nobody is logged in.
func perCaller(op gameOp) lua.LGFunction {
	return func(L *lua.LState) int {
		g := checkGame(L, 1)
		if g.user == "" {
			return fail(L, errNoCaller)
		}
		return op(L, g.name, g.user)
	}
}

// shared makes the game method that runs op on the game's data shared by
// every caller.
func shared(op gameOp) lua.LGFunction {
	return func(L *lua.LState) int {
		return op(L, checkGame(L, 1).name, "")
	}
}

// load serves game:get(key) and game:get_global(key) -> value, or nil (no
// value), or nil and a message.
func (d *Door) load(L *lua.LState, door, user string) int {
	key := L.CheckString(2)
	var (
		data  []byte
		found bool
	)
	err := d.call(L, func(ctx context.Context) (err error) {
		data, found, err = d.Store.DoorGet(ctx, door, user, key)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	if !found {
		L.Push(lua.LNil)
		return 1
	}
	v, err := DecodeJSON(L, data)
	if err != nil {
		return fail(L, fmt.Errorf("saved value of %q: %w", key, err))
	}
	L.Push(v)
	return 1
}

// save serves game:set(key, value) and game:set_global(key, value) ->
// true, or nil and a message. A nil value deletes the key.
func (d *Door) save(L *lua.LState, door, user string) int {
	key := L.CheckString(2)
	value := L.Get(3)
	var err error
	if value == lua.LNil {
		err = d.call(L, func(ctx context.Context) error {
			return d.Store.DoorDelete(ctx, door, user, key)
		})
	} else {
		data, encErr := AppendJSON(nil, value)
		if encErr != nil {
			L.ArgError(3, "cannot save: "+encErr.Error())
		}
		err = d.call(L, func(ctx context.Context) error {
			return d.Store.DoorSet(ctx, door, user, key, data)
		})
	}
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// sum serves game:add(key [, delta]) and game:add_global(key [, delta]) ->
// the new number, or nil and a message; delta defaults to 1.
func (d *Door) sum(L *lua.LState, door, user string) int {
	key := L.CheckString(2)
	delta := float64(L.OptNumber(3, 1))
	var total float64
	err := d.call(L, func(ctx context.Context) (err error) {
		total, err = d.Store.DoorAdd(ctx, door, user, key, delta)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(total))
	return 1
}

// game:top(key, n [, 'high'|'low']) -> list of {rank=, user=, score=}.
func (d *Door) top(L *lua.LState) int {
	g := checkGame(L, 1)
	key := L.CheckString(2)
	n := L.OptInt(3, 10)
	if n < 1 || n > store.MaxDoorTop {
		L.ArgError(3, fmt.Sprintf("between 1 and %d expected", store.MaxDoorTop))
	}
	order := store.HighestFirst
	if checkEither(L, 4, "high", "low") {
		order = store.LowestFirst
	}
	var entries []store.DoorEntry
	err := d.call(L, func(ctx context.Context) (err error) {
		entries, err = d.Store.DoorTop(ctx, g.name, key, n, order)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	list := L.CreateTable(len(entries), 0)
	for i, e := range entries {
		row := L.CreateTable(0, 3)
		row.RawSetString("rank", lua.LNumber(i+1))
		row.RawSetString("user", lua.LString(termtext.CleanLine(e.User)))
		row.RawSetString("score", lua.LNumber(e.Score))
		list.Append(row)
	}
	L.Push(list)
	return 1
}

// door.list() -> sorted names of the installed doors (Dir/doors/NAME.lua),
// or nil and a message.
func (d *Door) list(L *lua.LState) int {
	list := L.NewTable()
	if d.Dir == "" {
		L.Push(list)
		return 1
	}
	entries, err := os.ReadDir(filepath.Join(d.Dir, "doors"))
	if errors.Is(err, os.ErrNotExist) {
		L.Push(list)
		return 1
	}
	if err != nil {
		return fail(L, fmt.Errorf("list doors: %w", err))
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".lua")
		if !ok || e.IsDir() || store.CheckDoorName(name) != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names[:min(len(names), MaxDoorList)] {
		list.Append(lua.LString(name))
	}
	L.Push(list)
	return 1
}

// door.user() -> the logged-in caller's name, or nil.
func (d *Door) user(L *lua.LState) int {
	if d.User != nil {
		if name := d.User(L); name != "" {
			L.Push(lua.LString(name))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// door.who() -> list of the names of the callers online and logged in,
// each once, in the order Who gives.
func (d *Door) who(L *lua.LState) int {
	list := L.NewTable()
	if d.Who == nil {
		L.Push(list)
		return 1
	}
	seen := map[string]bool{}
	for _, c := range d.Who() {
		if c.User == "" || seen[strings.ToLower(c.User)] {
			continue
		}
		seen[strings.ToLower(c.User)] = true
		list.Append(lua.LString(termtext.CleanLine(c.User)))
	}
	L.Push(list)
	return 1
}

// door.now() -> Unix time in whole seconds.
func (d *Door) now(L *lua.LState) int {
	L.Push(lua.LNumber(d.clock().Unix()))
	return 1
}

// door.today() -> today's date, 'YYYY-MM-DD', in the host's time zone.
func (d *Door) today(L *lua.LState) int {
	loc := d.Location
	if loc == nil {
		loc = time.Local
	}
	L.Push(lua.LString(d.clock().In(loc).Format(time.DateOnly)))
	return 1
}

// door.random() -> a number in [0, 1); door.random(n) -> an integer in
// 1..n; door.random(m, n) -> an integer in m..n.
func (d *Door) random(L *lua.LState) int {
	if L.GetTop() == 0 {
		if d.Rand != nil {
			L.Push(lua.LNumber(d.Rand.Float64()))
		} else {
			L.Push(lua.LNumber(rand.Float64()))
		}
		return 1
	}
	lo, hi := int64(1), L.CheckInt64(1)
	if L.GetTop() >= 2 {
		lo, hi = hi, L.CheckInt64(2)
	}
	if lo > hi {
		L.ArgError(L.GetTop(), "interval is empty")
	}
	if lo < -maxRandomSpan || hi > maxRandomSpan {
		L.ArgError(L.GetTop(), "interval is too large")
	}
	span := hi - lo + 1
	var r int64
	if d.Rand != nil {
		r = d.Rand.Int64N(span)
	} else {
		r = rand.Int64N(span)
	}
	L.Push(lua.LNumber(lo + r))
	return 1
}
