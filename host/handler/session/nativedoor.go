package session

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Native doors (door.external): the caller's coroutine waits while a
// door program runs on a pseudo-terminal (host/handler/nativedoor), its
// terminal joined to the door's by a bridge (host/handler/termbridge):
//
//   - What the door writes goes to the caller from the bridge's goroutine
//     by way of the table's goroutine (Deps.Post), a piece at a time: the
//     door is held up, never the worker, and nothing piles up.
//   - What the caller types while the door runs goes to the door (Handle
//     hands it over before anything else) and is not journaled: it does
//     not resume the coroutine.
//   - When the door ends, the call's result is journaled (as a write: it
//     is stored before the caller goes on) and the coroutine resumed with
//     it.
//   - A caller who hangs up, is kicked, runs out of time or whose session
//     ends otherwise ends the door: its context is the coroutine's, and
//     the runner then kills the door's whole process group.
//   - A door cannot survive a host restart. The journal of a caller who
//     was in a door ends just before the call; its replay answers the
//     call with doorInterrupted, journals that answer, and goes on live:
//     the caller is back where the script goes after the door.

// DoorCall names the door call in journals.
const DoorCall = "door.external"

// doorInterrupted is the call's answer for a caller resumed after a host
// restart that ended their door.
const doorInterrupted = "the board restarted while you were in the door"

// doorNeedsTerminal is what a caller whose gateway cannot do keystroke
// mode is told (the classic client).
const doorNeedsTerminal = "Doors need a terminal: call in with telnet, SSH or the browser."

// doorRun is a door a session waits for.
type doorRun struct {
	spec   nativedoor.Spec
	run    *nativedoor.Run
	bridge *termbridge.Bridge
	req    lua.LValue // the request run was called with, returned with the result
	call   journal.Entry
}

// RunExternal implements luaapi.ExternalDoors.
func (t *Table) RunExternal(L *lua.LState, door luaapi.ExternalDoor, req lua.LValue) int {
	s := t.sessionOn(L)
	if s == nil {
		return pushDoorResult(L, req, doorFailed("no caller"))
	}
	e := journal.Entry{Kind: journal.KindCall, Name: DoorCall, Args: journal.DigestArgs([]lua.LValue{lua.LString(door.Spec.Name)})}
	if t.journaling(s) && s.journal.replaying {
		if _, ok := t.nextEntry(s); ok {
			n, _ := t.replayCall(L, s, DoorCall, true, e.Args)
			vals := make([]lua.LValue, n)
			for i := range vals {
				vals[i] = L.Get(L.GetTop() - n + 1 + i)
			}
			L.Pop(n)
			return pushDoorResult(L, req, vals)
		}
		// The journal ends at the door: the door was running when its
		// host stopped. The caller goes on live from here.
		s.journal.replaying = false
		t.tell(s, "The board restarted while you were in "+door.Spec.Name+": the door had to close.")
		return t.doorAnswer(L, s, e, req, doorFailed(doorInterrupted))
	}
	if why := t.cannotRunDoor(L, s, door); why != "" {
		t.tell(s, why)
		return pushDoorResult(L, req, doorFailed(why))
	}
	t.flushJournal(s) // everything up to the door is stored: see Call
	t.checkLost(L, s)
	spec := door.Spec
	spec.TimeLimit = t.doorTime(s, spec.TimeLimit)
	run, err := t.deps.Doors.Start(s.thread.Context(), spec, t.doorCaller(s, spec.TimeLimit))
	if err != nil {
		s.log.Error("door did not start", "door", spec.Name, "err", err)
		return t.doorAnswer(L, s, e, req, doorFailed("the door could not be started"))
	}
	s.log.Info("door started", "door", spec.Name, "node", s.node, "pgid", run.Pgid(), "time_limit", spec.TimeLimit)
	d := &doorRun{spec: spec, run: run, req: req, call: e}
	d.bridge = termbridge.Start(run, termbridge.Config{Charset: door.Charset, Output: func(text string) error {
		return t.doorOutput(s, d, text)
	}})
	s.door = d
	// Keystroke mode from the start: keys typed before the door writes
	// anything reach it as typed.
	if err := s.conn.SendKeys("", doorLabel); err != nil {
		s.log.Warn("send door output", "err", err)
	}
	t.doorsRunning.Add(1)
	go t.awaitDoor(s, d)
	return L.Yield()
}

// cannotRunDoor says why s cannot run door now ("" if it can).
func (t *Table) cannotRunDoor(L *lua.LState, s *Session, door luaapi.ExternalDoor) string {
	switch {
	case t.deps.Doors == nil || t.deps.Post == nil || t.dry != nil:
		return "Doors cannot run on this board."
	case !s.conn.Terminal.Keys:
		return doorNeedsTerminal
	case s.door != nil || s.offload != nil || !luaapi.CanYieldTo(L, s.thread):
		return "The door cannot start from here (inside pcall, an iterator or another door)."
	case s.node == 0:
		return "No node is free for the door: try again later."
	case door.MaxNode > 0 && s.node > door.MaxNode:
		return fmt.Sprintf("%s runs on nodes 1 to %d only, and you are on node %d: try again later.", door.Spec.Name, door.MaxNode, s.node)
	}
	return ""
}

// doorTime is the door's time: its own limit, cut to what is left of the
// caller's time.
func (t *Table) doorTime(s *Session, limit time.Duration) time.Duration {
	if limit <= 0 {
		limit = nativedoor.DefaultTimeLimit
	}
	if s.clock != nil {
		limit = min(limit, max(s.clock.left(t.now()), time.Second))
	}
	return limit
}

// doorCaller is what the drop files say of s's caller.
func (t *Table) doorCaller(s *Session, left time.Duration) dropfile.Caller {
	c := dropfile.Caller{
		Name: s.user, Node: s.node, TimeLeft: left, Now: t.now(),
		ANSI: s.conn.Colour && !s.conn.Terminal.NoANSI, Width: s.conn.Terminal.Width, Height: s.conn.Terminal.Height,
	}
	if s.user != "" && t.deps.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if a, err := t.deps.Store.Account(ctx, s.user); err == nil {
			c.Name, c.Level = a.Name, a.Security
		}
	}
	return c
}

// doorOutput sends the caller a piece of the door's output: called on the
// bridge's goroutine, it hands the piece to the table's goroutine and
// waits until it has gone (or the session is gone).
func (t *Table) doorOutput(s *Session, d *doorRun, text string) error {
	sent := make(chan struct{})
	posted := t.deps.Post(s.connID, func() {
		defer close(sent)
		if t.sessions[s.connID] != s || s.door != d {
			return
		}
		if err := s.conn.SendKeys(text, doorLabel); err != nil {
			s.log.Warn("send door output", "err", err)
		}
	})
	if !posted {
		return errTableGone
	}
	ctx := s.thread.Context()
	select {
	case <-sent:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errTableGone is doorOutput's error once the table stopped.
var errTableGone = fmt.Errorf("the worker stopped")

// doorLabel is the label of a door's output in the caller's journal and
// on the status page.
const doorLabel = "[door]"

// awaitDoor waits, on a goroutine of its own, for d to end, then hands
// its result to the table's goroutine.
func (t *Table) awaitDoor(s *Session, d *doorRun) {
	<-d.bridge.Done()
	if d.bridge.Err() != nil {
		d.bridge.Close() // the caller's side failed: the door goes
	}
	res := d.run.Wait()
	t.doorsRunning.Done()
	st := d.bridge.Stats()
	s.log.Info("door ended", "door", d.spec.Name, "why", res.Why, "exit", res.ExitCode, "ran", res.Ran.Round(time.Millisecond),
		"bytes_out", st.BytesOut, "keys_in", st.KeysIn, "keys_dropped", st.Dropped)
	t.deps.Post(s.connID, func() { t.doorDone(s, d, res) })
}

// doorDone resumes s, whose door d ended with res, with the door's
// result, journaled first.
func (t *Table) doorDone(s *Session, d *doorRun, res nativedoor.Result) {
	if t.sessions[s.connID] != s || s.door != d {
		return
	}
	s.door = nil
	if t.journals != nil {
		t.hold() // until Commit, as for a line
	}
	vals := []lua.LValue{lua.LTrue, lua.LString(res.Why), lua.LNumber(res.ExitCode)}
	if res.Why != nativedoor.EndExited {
		vals = doorFailed(res.Why)
	}
	if res.Why == nativedoor.EndTime {
		t.tell(s, fmt.Sprintf("Your time in %s is up.", d.spec.Name))
	}
	if t.journaling(s) {
		if enc, err := journal.AppendValues(nil, vals); err == nil {
			d.call.Results = enc
			t.record(s, d.call)
			t.flushJournal(s)
			if s.journal.lost {
				t.letGo(s)
				return
			}
		}
	}
	t.resume(s, append([]lua.LValue{d.req}, vals...)...)
	t.settleJournal(s)
	t.deliverEvents(s)
}

// doorAnswer journals vals as the door call's answer and returns them to
// the script at once.
func (t *Table) doorAnswer(L *lua.LState, s *Session, e journal.Entry, req lua.LValue, vals []lua.LValue) int {
	if t.journaling(s) {
		if enc, err := journal.AppendValues(nil, vals); err == nil {
			e.Results = enc
			t.record(s, e)
			t.flushJournal(s)
			t.checkLost(L, s)
		}
	}
	return pushDoorResult(L, req, vals)
}

// doorFailed is a door call's failure: nil and why, and no exit code.
func doorFailed(why string) []lua.LValue {
	return []lua.LValue{lua.LNil, lua.LString(why), lua.LNil}
}

// pushDoorResult pushes req and vals, the values run returns.
func pushDoorResult(L *lua.LState, req lua.LValue, vals []lua.LValue) int {
	L.Push(req)
	for _, v := range vals {
		L.Push(v)
	}
	return 1 + len(vals)
}

// doorInput hands what the caller typed to s's door: keys as typed (a
// keys request), or a line with the Enter that sent it (a line sent before
// the caller's gateway took keystroke mode).
func (t *Table) doorInput(s *Session, msg *lua.LTable) {
	text, ok := msg.RawGetString("msg").(lua.LString)
	if !ok {
		return
	}
	s.lastInput = t.now()
	keys := string(text)
	if msg.RawGetString("type") == lua.LString("msg") {
		keys += "\r"
	}
	if !s.door.bridge.Keys(keys) {
		t.noisy.Warn("keys for a door dropped: the door does not read them fast enough", "conn_id", s.connID)
	}
}
