package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/luaapi"
)

// MaxEvents bounds the events one events.lua may declare.
const MaxEvents = 100

// eventFields are the fields an event's table may have.
var eventFields = map[string]bool{"name": true, "when": true, "zone": true, "missed": true, "run": true}

// loadEvents runs Config.EventsScript, if it exists, within the load
// budget, and keeps the events it declares: it returns a table of
// events, each {name = ..., when = ..., run = function, zone = ...,
// missed = ...}, and a board-wide zone = ... (docs/events.md). A script
// that fails or declares a bad event fails the load, as the main script
// would.
func (t *Table) loadEvents() error {
	path := t.cfg.EventsScript
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	fn, err := luaapi.LoadFile(t.L, path)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(t.L.Context(), t.cfg.LoadBudget)
	defer cancel()
	base := t.L.Context()
	t.L.SetContext(ctx)
	t.L.Push(fn)
	err = t.L.PCall(0, 1, nil)
	t.L.SetContext(base)
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	ret := t.L.Get(-1)
	t.L.Pop(1)
	list, ok := ret.(*lua.LTable)
	if !ok {
		return fmt.Errorf("%s: must return a table of events, not a %s", path, ret.Type())
	}
	return t.declareEvents(path, list)
}

// declareEvents reads the events of list into the table.
func (t *Table) declareEvents(path string, list *lua.LTable) error {
	board := time.Local
	if z, ok := list.RawGetString("zone").(lua.LString); ok {
		loc, err := time.LoadLocation(string(z))
		if err != nil {
			return fmt.Errorf("%s: zone %q: %w", path, string(z), err)
		}
		board = loc
	}
	n := list.Len()
	if n > MaxEvents {
		return fmt.Errorf("%s: %d events: at most %d", path, n, MaxEvents)
	}
	t.eventFns = make(map[string]*lua.LFunction, n)
	t.events = t.events[:0]
	for i := 1; i <= n; i++ {
		tbl, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			return fmt.Errorf("%s: event %d is not a table", path, i)
		}
		ev, fn, err := readEvent(tbl, board)
		if err != nil {
			return fmt.Errorf("%s: event %d: %w", path, i, err)
		}
		if t.eventFns[ev.Name] != nil {
			return fmt.Errorf("%s: event %d: the name %q is taken by another event", path, i, ev.Name)
		}
		t.eventFns[ev.Name] = fn
		t.events = append(t.events, ev)
	}
	return nil
}

// readEvent reads one event's table.
func readEvent(tbl *lua.LTable, board *time.Location) (events.Event, *lua.LFunction, error) {
	var bad string
	tbl.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); !ok || !eventFields[string(s)] {
			bad = k.String()
		}
	})
	if bad != "" {
		return events.Event{}, nil, fmt.Errorf("unknown field %q (an event has name, when, run, zone, missed)", bad)
	}
	str := func(field string) string { return lua.LVAsString(tbl.RawGetString(field)) }
	ev := events.Event{Name: str("name"), Zone: board}
	if err := events.CheckName(ev.Name); err != nil {
		return ev, nil, err
	}
	var err error
	if ev.Schedule, err = events.Parse(str("when")); err != nil {
		return ev, nil, fmt.Errorf("%s: when: %w", ev.Name, err)
	}
	if z := str("zone"); z != "" {
		if ev.Zone, err = time.LoadLocation(z); err != nil {
			return ev, nil, fmt.Errorf("%s: zone %q: %w", ev.Name, z, err)
		}
	}
	if ev.Missed, err = events.ParseMissed(str("missed")); err != nil {
		return ev, nil, fmt.Errorf("%s: %w", ev.Name, err)
	}
	fn, ok := tbl.RawGetString("run").(*lua.LFunction)
	if !ok {
		return ev, nil, fmt.Errorf("%s: run must be a function", ev.Name)
	}
	return ev, fn, nil
}

// Events are the events this table's scripts declare (nil without an
// events script).
func (t *Table) Events() []events.Event { return t.events }

// RunEvent runs the event c names on a coroutine of its own, with no
// caller: it gets a table {name = ..., cause = ..., due = ...} (due: the
// due time in Unix seconds, nil for a sysop's run) and the API
// a door has (db, board, mail, door's _global calls, callers...). It is
// bounded as a caller's script is: the resume budget, the memory limit
// (Abort), and a Go panic is the event's failure, never the host's. An
// event must run to its end: one that waits (a prompt, coroutine.yield)
// fails.
func (t *Table) RunEvent(c events.Call) events.Result {
	name := c.Name
	res := events.Result{Started: t.now()}
	fn := t.eventFns[name]
	if fn == nil {
		res.Ended, res.Outcome = res.Started, events.OutcomeError
		res.Error = fmt.Sprintf("%v: %q is not declared by this version of the scripts", events.ErrUnknown, name)
		return res
	}
	th, cancel := t.newThread()
	defer cancel()
	// A stand-in session, known to Abort but to nothing else: host calls
	// see no caller, and nothing of it is journaled.
	s := &Session{connID: "event:" + name, thread: th, cancel: cancel, log: t.log.With("event", name)}
	t.eventLog = s.log // what the event prints carries its name
	defer func() { t.eventLog = nil }()
	info := t.L.CreateTable(0, 3)
	info.RawSetString("name", lua.LString(name))
	info.RawSetString("cause", lua.LString(c.Cause))
	if !c.Due.IsZero() {
		info.RawSetString("due", lua.LNumber(c.Due.Unix()))
	}
	state, err := t.safeResumeFn(s, fn, []lua.LValue{info})
	res.Ended = t.now()
	switch {
	case err != nil:
		res.Outcome, res.Error = events.OutcomeError, errorText(err)
		if reason := s.overrun.Load(); reason != nil {
			res.Error = *reason
			if strings.HasPrefix(*reason, budgetReason) {
				res.Outcome = events.OutcomeTimedOut
				res.Error = fmt.Sprintf("stopped: the event ran for more than %s (the resume budget)", t.cfg.ResumeBudget)
			}
		}
	case state == lua.ResumeYield || !th.Dead:
		res.Outcome = events.OutcomeError
		res.Error = "the event waited for input or yielded: an event has no caller and must run to its end"
	default:
		res.Outcome = events.OutcomeOK
	}
	return res
}
