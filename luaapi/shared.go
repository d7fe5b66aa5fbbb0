package luaapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
)

// Channels carries the shared module's events between callers: who
// listens on which channel, and waking them. The host's implementation
// (host/handler/live) is safe for concurrent use by every worker.
type Channels interface {
	// Subscribe makes connID's caller a listener of channel; force skips
	// the limits (a replay re-establishing what was granted before).
	Subscribe(connID, channel string, force bool) error
	// Unsubscribe stops it (nothing if it did not listen).
	Unsubscribe(connID, channel string)
	// Publish sends text, said by from, to every listener of channel but
	// connID's caller and returns how many were reached.
	Publish(connID, from, channel, text string) (int, error)
}

// Departures is implemented by Channels that act for a caller whose
// call ends (hang-up included) while they still listen or hold: the
// host's hub (host/handler/live). Without it, shared.subscribe's
// farewell is ignored and shared.hold returns nil and a message.
type Departures interface {
	// SetFarewell makes text, said by from, what connID's caller says on
	// channel if their call ends while they listen there.
	SetFarewell(connID, channel, from, text string)
	// Hold records that connID's caller holds v at table[key] until
	// their call ends, when the host deletes it if it is still v; force
	// skips the limit (a replay).
	Hold(connID, table, key string, v store.SharedValue, force bool) error
	// Release forgets connID's hold of table[key] and returns the value
	// held (ok false if none).
	Release(connID, table, key string) (v store.SharedValue, ok bool)
}

// Announcer is implemented by Channels that publish notices apart from
// what a caller says (the host's hub: live.NoticeRate). Without it,
// shared.announce publishes as shared.publish does.
type Announcer interface {
	// Announce is Publish within the publisher's notice allowance.
	Announce(connID, from, channel, text string) (int, error)
}

// Shared is the shared module: live state every caller of the board sees,
// whichever worker (Lua state) or phone line runs their session. Named
// tables of small values live in the store (store.SharedState), read and
// changed atomically; channels wake other callers who wait in shared.ask.
//
// Every answer a script gets from it is a journaled host call (see
// Recorder), so a session rebuilt by replay gets the same answers without
// touching the state again. shared.subscribe and shared.unsubscribe are
// re-applied during a replay (their answers still come from the journal),
// so a caller rebuilt on a restarted host listens again where they did.
type Shared struct {
	// Store keeps the tables; without one, table calls return nil and a
	// message.
	Store store.SharedState
	// Channels carries events; without it, channel calls return nil and a
	// message.
	Channels Channels
	// User names the caller running on L ("" before login).
	User func(L *lua.LState) string
	// Listen, if set, is told that the caller on L is about to wait in
	// shared.ask: an event may resume them. It is told again on every
	// such wait, replays included.
	Listen func(L *lua.LState)
	// LeftChannel, if set, is told that the caller on L left channel
	// (replays included): events of it kept for them, not shown yet, are
	// dropped.
	LeftChannel func(L *lua.LState, channel string)
	// Recorder, if set, journals the module's calls.
	Recorder Recorder
	// UI sends shared.ask's prompt.
	UI *UI
}

//go:embed lua/shared_ask.lua
var sharedAskSource string

// Loader opens the shared module.
func (s *Shared) Loader(L *lua.LState) int {
	calls := hostCalls{
		"get":         reads(s.get),
		"keys":        reads(s.keys),
		"all":         reads(s.all),
		"set":         writes(s.set),
		"update":      writes(s.update),
		"incr":        writes(s.incr),
		"subscribe":   writes(s.subscribe),
		"unsubscribe": writes(s.unsubscribe),
		"publish":     writes(s.publish),
		"announce":    writes(s.announce),
		"hold":        writes(s.hold),
	}
	mod := calls.table(L, s.Recorder, "shared")
	// Listening and holding are re-applied around the journaled call (see
	// Shared).
	for _, name := range []string{"subscribe", "unsubscribe", "hold"} {
		journaledFn := mod.RawGetString(name).(*lua.LFunction)
		mod.RawSetString(name, L.NewFunction(s.reapply(name, journaledFn)))
	}
	ask, err := LoadString(L, sharedAskSource, "<shared.ask>")
	if err != nil {
		L.RaiseError("shared module: %v", err)
	}
	L.Push(ask)
	L.Push(L.NewFunction(s.wait))
	L.Call(1, 1)
	mod.RawSetString("ask", L.Get(-1))
	L.Pop(1)
	L.Push(mod)
	return 1
}

// reapply wraps the journaled subscribe or unsubscribe: after the call
// (run live, or answered from the journal), a granted subscription is made
// to hold in the host's channels, without the limits, which already passed.
func (s *Shared) reapply(name string, journaledFn *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		conn := checkConn(L, 1)
		channel := L.CheckString(2) // for hold: the table
		top := L.GetTop()
		L.Push(journaledFn)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, lua.MultRet)
		n := L.GetTop() - top
		if s.Channels != nil && n > 0 && L.Get(top+1) == lua.LTrue {
			switch name {
			case "subscribe":
				_ = s.Channels.Subscribe(conn.ID, channel, true)
				s.setFarewell(L, conn, channel, L.Get(3))
			case "unsubscribe":
				s.Channels.Unsubscribe(conn.ID, channel)
				if s.LeftChannel != nil {
					s.LeftChannel(L, channel)
				}
			case "hold":
				if d, ok := s.Channels.(Departures); ok {
					s.holdAgain(L, d, conn, channel, L.CheckString(3), checkValue(L, 4, true))
				}
			}
		}
		return n
	}
}

// holdAgain makes a granted shared.hold (v nil: its giving up) hold in
// the hub and in the table, run live or answered from the journal. Live,
// the table has it already. In a replay, it may not: a caller not yet
// rebuilt after a restart is offline, and a script may have deleted what
// they held as left behind by a call gone (chat.lua does): the value is
// set again if the key is unset or still holds what the caller held
// before, and given up as shared.hold gives it up.
func (s *Shared) holdAgain(L *lua.LState, d Departures, conn *Conn, table, key string, v *store.SharedValue) {
	before, had := d.Release(conn.ID, table, key)
	if v != nil {
		_ = d.Hold(conn.ID, table, key, *v, true)
	}
	if s.Store == nil || v == nil && !had {
		return
	}
	_ = s.call(L, func(ctx context.Context) error {
		_, _, err := s.Store.SharedUpdate(ctx, table, key, func(cur store.SharedValue, ok bool) (*store.SharedValue, bool, error) {
			if v == nil {
				return nil, ok && cur.Equal(before), nil
			}
			mine := !ok || had && cur.Equal(before)
			return v, mine && !(ok && cur.Equal(*v)), nil
		})
		return err
	})
}

// errNoShared answers a call when the host gives no store or channels.
var errNoShared = errors.New("shared state is not available on this board")

// call runs fn against the store as storeCall does.
func (s *Shared) call(L *lua.LState, fn func(ctx context.Context) error) error {
	if s.Store == nil {
		return errNoShared
	}
	return storeCall(L, fn)
}

// checkValue reads the value at index n: a string, a number or a
// boolean; nil when nilOK and it is nil.
func checkValue(L *lua.LState, n int, nilOK bool) *store.SharedValue {
	switch v := L.Get(n).(type) {
	case lua.LString:
		if len(v) > store.MaxSharedValueBytes {
			L.ArgError(n, fmt.Sprintf("string longer than %d bytes", store.MaxSharedValueBytes))
		}
		return &store.SharedValue{Kind: store.SharedString, Str: string(v)}
	case lua.LNumber:
		sv := &store.SharedValue{Kind: store.SharedNumber, Num: float64(v)}
		if store.CheckSharedValue(*sv) != nil {
			L.ArgError(n, "finite number expected")
		}
		return sv
	case lua.LBool:
		return &store.SharedValue{Kind: store.SharedBool, Bool: bool(v)}
	case *lua.LNilType:
		if nilOK {
			return nil
		}
	}
	L.ArgError(n, "string, number or boolean expected, got "+L.Get(n).Type().String())
	return nil
}

// pushValue pushes a shared value (nil when unset).
func pushValue(L *lua.LState, v store.SharedValue, ok bool) {
	switch {
	case !ok:
		L.Push(lua.LNil)
	case v.Kind == store.SharedString:
		L.Push(lua.LString(v.Str))
	case v.Kind == store.SharedNumber:
		L.Push(lua.LNumber(v.Num))
	default:
		L.Push(lua.LBool(v.Bool))
	}
}

// checkName reads a table, key or channel name at index n.
func checkName(L *lua.LState, n int, what string) string {
	name := L.CheckString(n)
	if err := store.CheckSharedName(what, name); err != nil {
		L.ArgError(n, failText(err))
	}
	return name
}

// shared.get(table, key) -> the value, or nil when unset (nil, "message"
// when the store fails).
func (s *Shared) get(L *lua.LState) int {
	table, key := checkName(L, 1, "table"), checkName(L, 2, "key")
	var (
		v  store.SharedValue
		ok bool
	)
	err := s.call(L, func(ctx context.Context) (err error) {
		v, ok, err = s.Store.SharedGet(ctx, table, key)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	pushValue(L, v, ok)
	return 1
}

// shared.keys(table) -> sorted list of the table's keys.
func (s *Shared) keys(L *lua.LState) int {
	table := checkName(L, 1, "table")
	var keys []string
	err := s.call(L, func(ctx context.Context) (err error) {
		keys, err = s.Store.SharedKeys(ctx, table)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	list := L.CreateTable(len(keys), 0)
	for _, k := range keys {
		list.Append(lua.LString(k))
	}
	L.Push(list)
	return 1
}

// shared.all(table) -> the table's keys and values as a Lua table
// {key = value, ...}: one read (and one journal entry) for the whole
// table, where shared.keys and a shared.get per key make one each.
func (s *Shared) all(L *lua.LState) int {
	table := checkName(L, 1, "table")
	var all []store.SharedEntry
	err := s.call(L, func(ctx context.Context) (err error) {
		all, err = s.Store.SharedAll(ctx, table)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	t := L.CreateTable(0, len(all))
	for _, e := range all {
		pushValue(L, e.Value, true)
		t.RawSetString(e.Key, L.Get(-1))
		L.Pop(1)
	}
	L.Push(t)
	return 1
}

// update runs a store update of table[key] with fn and pushes its outcome
// with push, or nil and a message.
func (s *Shared) updateWith(L *lua.LState, table, key string, fn store.SharedUpdateFunc, push func(v store.SharedValue, ok bool) int) int {
	var (
		v  store.SharedValue
		ok bool
	)
	err := s.call(L, func(ctx context.Context) (err error) {
		v, ok, err = s.Store.SharedUpdate(ctx, table, key, fn)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	return push(v, ok)
}

// shared.set(table, key, value) -> true, or nil and a message (the
// table is full). A nil value deletes the key.
func (s *Shared) set(L *lua.LState) int {
	table, key := checkName(L, 1, "table"), checkName(L, 2, "key")
	next := checkValue(L, 3, true)
	return s.updateWith(L, table, key, func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return next, true, nil
	}, func(store.SharedValue, bool) int {
		L.Push(lua.LTrue)
		return 1
	})
}

// shared.update(table, key, old, new) -> true if the value was old (nil:
// unset) and is now new (nil: deleted); else false and the value as it
// is. The compare and the set are one atomic step, across every worker
// and line.
func (s *Shared) update(L *lua.LState) int {
	table, key := checkName(L, 1, "table"), checkName(L, 2, "key")
	old, next := checkValue(L, 3, true), checkValue(L, 4, true)
	swapped := false
	return s.updateWith(L, table, key, func(cur store.SharedValue, ok bool) (*store.SharedValue, bool, error) {
		same := !ok && old == nil || ok && old != nil && cur.Equal(*old)
		swapped = same
		return next, same, nil
	}, func(v store.SharedValue, ok bool) int {
		if swapped {
			L.Push(lua.LTrue)
			return 1
		}
		L.Push(lua.LFalse)
		pushValue(L, v, ok)
		return 2
	})
}

// errNotNumber answers shared.incr on a value that is not a number.
var errNotNumber = errors.New("the value is not a number")

// shared.incr(table, key [, n]) -> the new value: adds n (1 by default)
// to the number at key (0 when unset), atomically. nil and a message if
// the value is not a number or the table is full.
func (s *Shared) incr(L *lua.LState) int {
	table, key := checkName(L, 1, "table"), checkName(L, 2, "key")
	delta := float64(L.OptNumber(3, 1))
	return s.updateWith(L, table, key, func(cur store.SharedValue, ok bool) (*store.SharedValue, bool, error) {
		if ok && cur.Kind != store.SharedNumber {
			return nil, false, errNotNumber
		}
		next := &store.SharedValue{Kind: store.SharedNumber, Num: cur.Num + delta}
		return next, true, store.CheckSharedValue(*next)
	}, func(v store.SharedValue, _ bool) int {
		L.Push(lua.LNumber(v.Num))
		return 1
	})
}

// channelCall checks the conn and channel of a channel call.
func (s *Shared) channelCall(L *lua.LState) (*Conn, string) {
	conn := checkConn(L, 1)
	return conn, checkName(L, 2, "channel")
}

// shared.subscribe(conn, channel [, farewell]) -> true, or nil and a
// message (past the limits of listeners per channel or channels per
// caller): from now on events published on channel wake the caller in
// shared.ask. farewell, a text, is published on channel as the caller
// if their call ends while they listen there (a hang-up).
func (s *Shared) subscribe(L *lua.LState) int {
	conn, channel := s.channelCall(L)
	farewell := L.OptString(3, "")
	if len(farewell) > store.MaxSharedValueBytes {
		L.ArgError(3, fmt.Sprintf("farewell longer than %d bytes", store.MaxSharedValueBytes))
	}
	if s.Channels == nil {
		return fail(L, errNoShared)
	}
	if err := s.Channels.Subscribe(conn.ID, channel, false); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// setFarewell gives the hub the caller's farewell on channel (v: the
// third argument of shared.subscribe; nil or "" for none).
func (s *Shared) setFarewell(L *lua.LState, conn *Conn, channel string, v lua.LValue) {
	d, ok := s.Channels.(Departures)
	text, isText := v.(lua.LString)
	if !ok || !isText || len(text) > store.MaxSharedValueBytes {
		return
	}
	d.SetFarewell(conn.ID, channel, s.speaker(L, conn), string(text))
}

// speaker names the caller on L in the events they publish: their user
// name, or "conn ID" before login.
func (s *Shared) speaker(L *lua.LState, conn *Conn) string {
	if s.User != nil {
		if name := s.User(L); name != "" {
			return name
		}
	}
	return "conn " + conn.ID
}

// errNoHolds answers shared.hold when the host cannot release values at
// the end of a call.
var errNoHolds = errors.New("holding values is not available on this board")

// shared.hold(conn, table, key, value) -> true, or nil and a message:
// shared.set, and the host deletes the key when the caller's call ends
// (a hang-up included) if it still holds value. Past
// live.MaxHoldsPerCaller keys held: nil and a message. A nil value gives
// the key up now: it is deleted if it still holds what the caller held,
// and no longer held.
func (s *Shared) hold(L *lua.LState) int {
	conn := checkConn(L, 1)
	table, key := checkName(L, 2, "table"), checkName(L, 3, "key")
	v := checkValue(L, 4, true)
	d, ok := s.Channels.(Departures)
	if !ok || s.Store == nil {
		return fail(L, errNoHolds)
	}
	pushTrue := func(store.SharedValue, bool) int {
		L.Push(lua.LTrue)
		return 1
	}
	if v == nil {
		held, was := d.Release(conn.ID, table, key)
		if !was {
			return pushTrue(held, false)
		}
		return s.updateWith(L, table, key, func(cur store.SharedValue, ok bool) (*store.SharedValue, bool, error) {
			return nil, ok && cur.Equal(held), nil
		}, pushTrue)
	}
	before, had := d.Release(conn.ID, table, key)
	if err := d.Hold(conn.ID, table, key, *v, false); err != nil {
		if had {
			_ = d.Hold(conn.ID, table, key, before, true)
		}
		return fail(L, err)
	}
	err := s.call(L, func(ctx context.Context) error {
		_, _, err := s.Store.SharedUpdate(ctx, table, key, func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
			return v, true, nil
		})
		return err
	})
	if err != nil {
		// Not written (the table is full): the hub holds what the table
		// has, as before.
		d.Release(conn.ID, table, key)
		if had {
			_ = d.Hold(conn.ID, table, key, before, true)
		}
		return fail(L, err)
	}
	return pushTrue(*v, true)
}

// shared.unsubscribe(conn, channel) -> true.
func (s *Shared) unsubscribe(L *lua.LState) int {
	conn, channel := s.channelCall(L)
	if s.Channels != nil {
		s.Channels.Unsubscribe(conn.ID, channel)
	}
	L.Push(lua.LTrue)
	return 1
}

// shared.publish(conn, channel, text) -> how many listeners it reached
// on this host, or nil and a message (the caller publishes too fast, or
// text is longer than store.MaxSharedValueBytes).
// The event goes to the listeners of channel on every line, the caller
// excepted.
func (s *Shared) publish(L *lua.LState) int {
	conn, channel := s.channelCall(L)
	text := L.CheckString(3)
	if s.Channels == nil {
		return fail(L, errNoShared)
	}
	if len(text) > store.MaxSharedValueBytes {
		// Expected: the text is often what a caller typed.
		return fail(L, fmt.Errorf("text longer than %d bytes", store.MaxSharedValueBytes))
	}
	n, err := s.Channels.Publish(conn.ID, s.speaker(L, conn), channel, text)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// shared.announce(conn, channel, text) -> as shared.publish, for a
// notice about the caller (a chat room's "ann comes in"): it counts
// against the caller's notice allowance (live.NoticeRate), apart from
// what they say.
func (s *Shared) announce(L *lua.LState) int {
	a, ok := s.Channels.(Announcer)
	if !ok {
		return s.publish(L)
	}
	conn, channel := s.channelCall(L)
	text := L.CheckString(3)
	if len(text) > store.MaxSharedValueBytes {
		return fail(L, fmt.Errorf("text longer than %d bytes", store.MaxSharedValueBytes))
	}
	n, err := a.Announce(conn.ID, s.speaker(L, conn), channel, text)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// wait is shared.ask's Go half: ui.ask, with the caller marked as one an
// event may resume.
func (s *Shared) wait(L *lua.LState) int {
	text := L.CheckString(3)
	pchar := L.OptString(4, DefaultPromptChar)
	m := message.Prompt(text, pchar)
	if pchar == "" {
		m.Extra = []message.Member{{Key: "pchar", Value: []byte(`""`)}} // as ui.ask
	}
	s.UI.send(L, m, text)
	if s.Listen != nil {
		s.Listen(L)
	}
	return waitForCaller(L, "shared.ask")
}
