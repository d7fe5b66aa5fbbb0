package session

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Offloaded work: a password hash takes tens of milliseconds at bcrypt's
// default cost, and a table serves many callers on one goroutine. With
// Deps.Background set, db.auth_user and db.register_user hand their hash
// to it (luaapi.Offloader): the caller's coroutine yields, the table goes
// on serving the others, and when the hash is done Background calls back
// on the table's goroutine, which finishes the call (the store, the
// throttle, the login) and resumes the coroutine with its results.
//
//   - The call is journaled as before: its entry, with its results, is
//     recorded when it finishes, before the coroutine goes on, and stored
//     with the entries of the resume that follows (for a write too: see
//     rider.go); a replay answers it from the journal, without hashing. A replay or an adoption that runs past its journal into a
//     hash hashes in place.
//   - The wait is not the script's: the resume budget covers the runs
//     before and after it, each in full.
//   - A line that arrives while its caller waits is kept, up to
//     MaxQueuedWhileHashing of them, and handled in order once the
//     session waits for the caller again; past that it is refused with a
//     word, and counts against the caller's flood limit.
//   - A caller who hangs up, is kicked or whose session ends meanwhile is
//     forgotten at once; the hash's result is dropped (and a hash not
//     started yet is skipped). A waiting session is not idle: ReapIdle
//     leaves it. Detach (a drain or an upgrade) waits for the hash, up to
//     DetachWait, and finishes the call before it lets the session go;
//     past that the session goes with its journal ending before the call,
//     whose replay then restarts the caller (see journal.go).

// MaxQueuedWhileHashing bounds the lines a session keeps while it waits
// for a hash.
const MaxQueuedWhileHashing = 8

// DetachWait bounds how long Detach waits for a session's hash.
const DetachWait = 5 * time.Second

// waitingText is what a caller who types too far ahead during a hash sees.
const waitingText = "One moment: that line was ignored."

// offload is a host call waiting for work done off the table's goroutine.
type offload struct {
	work func()
	done func(L *lua.LState) []lua.LValue
	// call is the call's journal entry, recorded with its results when it
	// finishes (nil when the session keeps no journal).
	call *journal.Entry
	// started says work was handed to Background; finished is closed
	// once it has run.
	started  bool
	finished chan struct{}
}

// Offload implements luaapi.Offloader.
func (t *Table) Offload(L *lua.LState, work func(), done func(L *lua.LState) []lua.LValue) bool {
	if t.deps.Background == nil {
		return false
	}
	s := t.sessionOn(L)
	if s == nil || s.offload != nil || s.inReplay || t.sessions[s.connID] != s || !luaapi.CanYieldTo(L, s.thread) {
		return false
	}
	s.offload = &offload{work: work, done: done, finished: make(chan struct{})}
	return true
}

// noteOffloadCall keeps the journal entry of the call that just yielded
// for its work, to be completed when it finishes.
func (t *Table) noteOffloadCall(s *Session, e journal.Entry) {
	if o := s.offload; o != nil && o.call == nil {
		o.call = &e
	}
}

// startOffload hands s's waiting work to Background.
func (t *Table) startOffload(s *Session) {
	o := s.offload
	o.started = true
	ctx := s.thread.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	t.deps.Background(ctx, s.connID, func() {
		defer close(o.finished)
		o.work()
	}, func() { t.offloadDone(s, o) })
}

// waitingForWork reports whether s waits for offloaded work, or for a
// stream such as a native door (stream.go).
func (s *Session) waitingForWork() bool { return s.offload != nil || s.stream != nil }

// offloadDone finishes s's call once its work has run, on the table's
// goroutine, and resumes the caller's coroutine with the call's results.
// A session gone meanwhile, or finished already (Detach), is left alone.
func (t *Table) offloadDone(s *Session, o *offload) {
	if t.sessions[s.connID] != s || s.offload != o {
		return
	}
	if t.journals != nil {
		t.hold() // until Commit, as for a line
	}
	s.offload = nil
	results, err := t.finishCall(s, o)
	if err != nil {
		t.fail(s, err)
		return
	}
	if t.sessions[s.connID] != s {
		return
	}
	t.resume(s, results...)
	t.settleJournal(s)
	t.handleQueued(s)
	t.deliverEvents(s)
}

// finishCall runs the call's done and journals its results; a panic
// becomes an error, which ends the session.
func (t *Table) finishCall(s *Session, o *offload) (results []lua.LValue, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	results = o.done(s.thread) // a pcall's coroutine no longer knows its session
	if o.call == nil || !t.journaling(s) {
		return results, nil
	}
	enc, encErr := journal.AppendValues(nil, results)
	if encErr != nil {
		t.giveUp(s, fmt.Errorf("%s returned %w", o.call.Name, encErr))
		return results, nil
	}
	o.call.Results = enc
	t.record(s, *o.call) // stored with the resume's entries, even a write's (rider.go)
	return results, nil
}

// queueLine keeps a line for s, which waits for a hash, or refuses it. A
// refused line counts against the caller's rate limit (a kept one counts
// when it is handled), so a caller who floods during a long wait is cut
// off as surely as one who floods a prompt.
func (t *Table) queueLine(s *Session, req *m2proto.Request) {
	if len(s.queued) >= MaxQueuedWhileHashing {
		if _, cut := t.spendLine(s, t.now()); cut {
			return
		}
		t.counts.throttled.Add(1)
		t.noisy.Warn("line while waiting for a hash: refused", "conn_id", s.connID)
		msg := message.Screen(luaapi.RenderColour(waitingText, s.conn.Colour))
		if err := s.conn.Send(s.conn.Sender, s.connID, msg, ""); err != nil {
			s.log.Warn("send refusal", "err", err)
		}
		return
	}
	s.queued = append(s.queued, req)
}

// handleQueued handles the lines s kept while it waited, in order, until
// it waits for work again or ends.
func (t *Table) handleQueued(s *Session) {
	for len(s.queued) > 0 && t.sessions[s.connID] == s && s.offload == nil {
		req := s.queued[0]
		s.queued[0] = nil
		s.queued = s.queued[1:]
		t.Handle(req)
	}
	if t.sessions[s.connID] != s {
		s.queued = nil
	}
}

// finishWaiting finishes s's call now if it waits for work: it waits for
// the work, up to DetachWait, and reports whether s is free of it.
func (t *Table) finishWaiting(s *Session) bool {
	o := s.offload
	if o == nil {
		return true
	}
	if !o.started {
		return false
	}
	timer := time.NewTimer(DetachWait)
	defer timer.Stop()
	select {
	case <-o.finished:
	case <-timer.C:
		return false
	}
	t.offloadDone(s, o)
	return t.sessions[s.connID] == s && s.offload == nil
}
