package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Native doors (door.external): a stream call (stream.go) whose stream
// is a door program on a pseudo-terminal (host/handler/nativedoor), in a
// folder of the caller's node with the drop files written. Its time is
// cut to the caller's time left; the runner kills the door's whole
// process group when it ends, however it ends.

// DoorCall names the door call in journals.
const DoorCall = "door.external"

// doorInterrupted is the call's answer for a caller resumed after a host
// restart that ended their door.
const doorInterrupted = "the board restarted while you were in the door"

// doorsBusy is what a caller is told when the board runs as many native
// doors as it may at once (nativedoor.Runner.MaxRunning).
const doorsBusy = "All door nodes are busy: try again in a few minutes."

// DoorStartEvery is how often one caller may start a native door: a
// start costs the worker about 2 ms (a pseudo-terminal, a fork), so a
// caller going in and out of doors as fast as they can type costs it at
// most 0.2%.
const DoorStartEvery = time.Second

// RunExternal implements luaapi.ExternalDoors.
func (t *Table) RunExternal(L *lua.LState, door luaapi.ExternalDoor, req lua.LValue) int {
	return t.joinStream(L, req, &streamCall{
		name: DoorCall, args: []lua.LValue{lua.LString(door.Spec.Name)}, what: door.Spec.Name,
		charset: door.Charset, interrupted: doorInterrupted,
		refuse: func(s *Session) string { return t.cannotRunDoor(s, door) },
		start: func(ctx context.Context, s *Session) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
			return t.startDoor(ctx, s, door)
		},
	})
}

// cannotRunDoor says why s cannot run door now ("" if it can).
func (t *Table) cannotRunDoor(s *Session, door luaapi.ExternalDoor) string {
	switch {
	case t.deps.Doors == nil:
		return "Doors cannot run on this board."
	case s.node == 0:
		return "No node is free for the door: try again later."
	case !s.doorStarted.IsZero() && t.now().Sub(s.doorStarted) < DoorStartEvery:
		return "One moment before the next door, please."
	case door.MaxNode > 0 && s.node > door.MaxNode:
		return fmt.Sprintf("%s runs on nodes 1 to %d only, and you are on node %d: try again later.", door.Spec.Name, door.MaxNode, s.node)
	}
	return ""
}

// startDoor starts door for s; wait returns the door's result once it
// has ended: true, 'exited' and its exit status, or nil and why.
func (t *Table) startDoor(ctx context.Context, s *Session, door luaapi.ExternalDoor) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
	spec := door.Spec
	spec.TimeLimit = t.doorTime(s, spec.TimeLimit)
	s.doorStarted = t.now()
	run, err := t.deps.Doors.Start(ctx, spec, t.doorCaller(s, spec.TimeLimit))
	if errors.Is(err, nativedoor.ErrBusy) {
		s.log.Warn("door refused: all door nodes busy", "door", spec.Name)
		return nil, nil, streamRefused(doorsBusy)
	}
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("door started", "door", spec.Name, "node", s.node, "pgid", run.Pgid(), "time_limit", spec.TimeLimit)
	wait := func(st termbridge.Stats) streamEnd {
		res := run.Wait()
		s.log.Info("door ended", "door", spec.Name, "why", res.Why, "exit", res.ExitCode, "ran", res.Ran.Round(time.Millisecond),
			"bytes_out", st.BytesOut, "keys_in", st.KeysIn, "keys_dropped", st.Dropped)
		switch res.Why {
		case nativedoor.EndExited:
			return streamEnd{results: []lua.LValue{lua.LTrue, lua.LString(res.Why), lua.LNumber(res.ExitCode)}}
		case nativedoor.EndTime:
			return streamEnd{results: streamFailed(res.Why), notice: fmt.Sprintf("Your time in %s is up.", spec.Name)}
		}
		return streamEnd{results: streamFailed(res.Why)}
	}
	return run, wait, nil
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
