package session

import (
	"context"
	"errors"
	"fmt"
	"io"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Stream calls: a host call that joins the caller's terminal to a byte
// stream (host/handler/termbridge) until the stream ends, while the
// caller's coroutine waits. Native doors (nativedoor.go) are one; a door
// server's connection would be another (its Start dials instead).
//
//   - What the stream writes goes to the caller from the bridge's
//     goroutine by way of the table's goroutine (Deps.Post), a piece at a
//     time, as keystroke-mode output: the stream is held up, never the
//     worker, and nothing piles up.
//   - What the caller types meanwhile goes to the stream (Handle hands it
//     over before anything else) and is not journaled: it does not resume
//     the coroutine.
//   - When the stream ends, the call's result is journaled (as a write: it
//     is stored before the caller goes on) and the coroutine resumed with
//     req and the result.
//   - A caller who hangs up, is kicked or whose session ends otherwise ends
//     the stream: the context Start gets is the coroutine's.
//   - A stream cannot survive a host restart. The journal of a caller who
//     was in one ends just before the call; its replay answers the call
//     with Interrupted, journals that answer, and goes on live: the caller
//     is back where the script goes after the call.

// streamCall is what a stream call needs besides the stream itself.
type streamCall struct {
	// name is the call's name in the journal; args its arguments' digest.
	name string
	args []lua.LValue
	// what names what the caller is in, for what they are told
	// ("Legend of the Red Dragon").
	what string
	// charset is the stream's.
	charset termprofile.Encoding
	// binary makes the call a binary stream (a file transfer, binary.go):
	// bytes pass as they are, in binary stream mode, and only a caller
	// whose gateway can do it (termprofile.Profile.Binary) may join.
	// cancelOnCAN, for a ZMODEM transfer, ends the stream when the caller
	// sends Ctrl-X five times in a row (binary.go).
	binary, cancelOnCAN bool
	// refuse, if set, says why the caller cannot join now ("" if they
	// can); it is told to them.
	refuse func(s *Session) string
	// start opens the stream for s with ctx, which ends with the caller's
	// session; what it returns is the stream, and wait, which blocks
	// until the stream's other side has ended and says how it ended; wait
	// runs on a goroutine of its own once the stream's output has ended,
	// and gets the bridge's counts.
	start func(ctx context.Context, s *Session) (stream io.ReadWriteCloser, wait func(termbridge.Stats) streamEnd, err error)
	// interrupted is the call's result for a caller resumed after a host
	// restart ended the stream.
	interrupted string
}

// resizer is a stream whose terminal can take the caller's size (a
// native door's pseudo-terminal).
type resizer interface{ Resize(width, height int) error }

// followResize gives s's stream the terminal size the request says the
// caller has now, if it changed.
func (t *Table) followResize(s *Session, msg *lua.LTable) {
	before := s.conn.Terminal
	s.conn.SetTerminal(msg)
	after := s.conn.Terminal
	if after.Width == before.Width && after.Height == before.Height {
		return
	}
	if r, ok := s.stream.stream.(resizer); ok {
		if err := r.Resize(after.Width, after.Height); err != nil {
			s.log.Warn("door terminal not resized", "err", err)
		}
	}
}

// streamEnd is how a stream ended: the call's results (after req), and a
// line to tell the caller first ("" for none).
type streamEnd struct {
	results []lua.LValue
	notice  string
	// onTable, if set, runs on the table's goroutine once the end is
	// taken (before the coroutine resumes).
	onTable func(s *Session)
	// abandoned, if set, runs instead when nobody waits any more (the
	// session ended first).
	abandoned func()
}

// streamNeedsTerminal is what a caller whose gateway cannot do keystroke
// mode is told (the classic client).
const streamNeedsTerminal = "Doors need a terminal: call in with telnet, SSH or the browser."

// streamLabel is what the status page shows a caller in c's stream doing.
func streamLabel(c *streamCall) string {
	if c.binary {
		return "[transfer " + c.what + "]"
	}
	return "[door " + c.what + "]"
}

// joined is the stream a session waits for.
type joined struct {
	call   *streamCall
	stream io.ReadWriteCloser
	bridge *termbridge.Bridge
	req    lua.LValue // the request the call was made with, returned with the result
	entry  journal.Entry
	// ended, set on the bridge's goroutine before the end is posted, is
	// how the stream ended.
	ended streamEnd
	// cans counts the Ctrl-X the caller sent last, in a row (binary.go).
	cans int
}

// joinStream runs c for the caller on L (a Go function of theirs that
// returns what joinStream returns): it pushes req and the call's result
// and returns their count, or yields until the stream ends.
func (t *Table) joinStream(L *lua.LState, req lua.LValue, c *streamCall) int {
	s := t.sessionOn(L)
	if s == nil {
		return pushStreamResult(L, req, streamFailed("no caller"))
	}
	t.checkEnding(L, s)
	e := journal.Entry{Kind: journal.KindCall, Name: c.name, Args: journal.DigestArgs(c.args)}
	if t.journaling(s) && (s.journal.replaying || s.journal.afterWrite) {
		if _, ok := t.nextEntry(s); ok {
			n, _ := t.replayCall(L, s, c.name, true, e.Args)
			vals := make([]lua.LValue, n)
			for i := range vals {
				vals[i] = L.Get(L.GetTop() - n + 1 + i)
			}
			L.Pop(n)
			return pushStreamResult(L, req, vals)
		}
		// The journal ends at the call: the stream was open when its host
		// stopped. The caller goes on live from here.
		s.journal.replaying = false
		if c.binary {
			t.endBinary(s) // the caller's gateway may still be in the transfer
		}
		t.tell(s, "The board restarted while you were in "+c.what+": it had to close.")
		return t.streamAnswer(L, s, e, req, streamFailed(c.interrupted))
	}
	if why := t.cannotJoin(L, s, c); why != "" {
		// Journaled like any answer: a replay must not ask again (the
		// node, the clock and the caller's terminal may differ by then).
		t.tell(s, why)
		return t.streamAnswer(L, s, e, req, streamFailed(why))
	}
	t.flushJournal(s) // everything up to the call is stored: see Call
	t.checkLost(L, s)
	stream, wait, err := c.start(s.thread.Context(), s)
	var refused streamRefused
	if errors.As(err, &refused) {
		t.tell(s, string(refused))
		return t.streamAnswer(L, s, e, req, streamFailed(string(refused)))
	}
	if err != nil {
		s.log.Error("stream did not open", "call", c.name, "what", c.what, "err", err)
		return t.streamAnswer(L, s, e, req, streamFailed(c.what+" could not be started"))
	}
	j := &joined{call: c, stream: stream, req: req, entry: e}
	cfg := termbridge.Config{Charset: c.charset, Output: func(text string) error {
		return t.streamOutput(s, j, text)
	}}
	if c.binary {
		cfg.Raw, cfg.MaxKeys = true, binstream.MaxRequestBytes
	}
	j.bridge = termbridge.Start(stream, cfg)
	s.stream = j
	// Keystroke (or binary stream) mode from the start: keys typed before
	// the stream writes anything reach it as typed.
	if err := t.sendStream(s, j, ""); err != nil {
		s.log.Warn("send stream output", "err", err)
	}
	t.streamsOpen.Add(1)
	go t.awaitStream(s, j, wait)
	return L.Yield()
}

// cannotJoin says why s cannot join c's stream now ("" if it can).
func (t *Table) cannotJoin(L *lua.LState, s *Session, c *streamCall) string {
	switch {
	case t.deps.Post == nil || t.dry != nil:
		return "Doors cannot run on this board."
	case c.binary && !s.conn.Terminal.Binary:
		return transferNeedsTerminal
	case !c.binary && !s.conn.Terminal.Keys:
		return streamNeedsTerminal
	case s.stream != nil || s.offload != nil || !luaapi.CanYieldTo(L, s.thread):
		return "The door cannot start from here (inside pcall, an iterator or another door)."
	}
	if c.refuse != nil {
		return c.refuse(s)
	}
	return ""
}

// streamOutput sends the caller a piece of the stream's output: called on
// the bridge's goroutine, it hands the piece to the table's goroutine and
// waits until it has gone (or the session is gone).
func (t *Table) streamOutput(s *Session, j *joined, text string) error {
	sent := make(chan struct{})
	ctx := s.thread.Context()
	posted := t.deps.Post(ctx, s.connID, func() {
		defer close(sent)
		if t.sessions[s.connID] != s || s.stream != j {
			return
		}
		if err := t.sendStream(s, j, text); err != nil {
			s.log.Warn("send stream output", "err", err)
		}
	})
	if !posted {
		return errTableGone
	}
	select {
	case <-sent:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// streamRefused is a start's error that says, in words for the caller,
// why the stream cannot open now (all door nodes busy).
type streamRefused string

func (r streamRefused) Error() string { return string(r) }

// errTableGone is streamOutput's error once the table stopped.
var errTableGone = fmt.Errorf("the worker stopped")

// awaitStream waits, on a goroutine of its own, for j's stream to end,
// then hands its result to the table's goroutine.
func (t *Table) awaitStream(s *Session, j *joined, wait func(termbridge.Stats) streamEnd) {
	<-j.bridge.Done()
	if j.bridge.Err() != nil {
		j.bridge.Close() // the caller's side failed: the stream goes
	}
	j.ended = wait(j.bridge.Stats())
	t.streamsOpen.Done()
	// Not posted when the session has ended meanwhile: nobody waits.
	if !t.deps.Post(s.thread.Context(), s.connID, func() { t.streamDone(s, j) }) && j.ended.abandoned != nil {
		j.ended.abandoned()
	}
}

// streamDone resumes s, whose stream j ended, with the call's result,
// journaled first.
func (t *Table) streamDone(s *Session, j *joined) {
	if t.sessions[s.connID] != s || s.stream != j {
		if j.ended.abandoned != nil {
			j.ended.abandoned() // the session went first: nobody takes what the stream left
		}
		return
	}
	s.stream = nil
	if j.call.binary {
		t.endBinary(s)
	}
	if j.ended.onTable != nil {
		j.ended.onTable(s)
	}
	if t.journals != nil {
		t.hold() // until Commit, as for a line
	}
	if j.ended.notice != "" {
		t.tell(s, j.ended.notice)
	}
	if t.journaling(s) {
		if enc, err := journal.AppendValues(nil, j.ended.results); err == nil {
			j.entry.Results = enc
			t.record(s, j.entry) // stored with the resume's entries (rider.go)
		}
	}
	t.resume(s, append([]lua.LValue{j.req}, j.ended.results...)...)
	t.settleJournal(s)
	t.deliverEvents(s)
}

// streamAnswer journals vals as the call's answer and returns them, after
// req, to the script at once.
func (t *Table) streamAnswer(L *lua.LState, s *Session, e journal.Entry, req lua.LValue, vals []lua.LValue) int {
	if t.journaling(s) {
		if enc, err := journal.AppendValues(nil, vals); err == nil {
			e.Results = enc
			t.record(s, e) // stored with the resume's entries (rider.go)
		}
	}
	return pushStreamResult(L, req, vals)
}

// streamFailed is a stream call's failure: nil and why, and no third
// value.
func streamFailed(why string) []lua.LValue {
	return []lua.LValue{lua.LNil, lua.LString(why), lua.LNil}
}

// pushStreamResult pushes req and vals.
func pushStreamResult(L *lua.LState, req lua.LValue, vals []lua.LValue) int {
	L.Push(req)
	for _, v := range vals {
		L.Push(v)
	}
	return 1 + len(vals)
}

// streamInput hands what the caller typed to s's stream: keys as typed (a
// keys request), or a line with the Enter that sent it (a line sent before
// the caller's gateway took keystroke mode).
func (t *Table) streamInput(s *Session, msg *lua.LTable) {
	text, ok := msg.RawGetString("msg").(lua.LString)
	if !ok || s.stream.call.binary {
		return // a transfer takes only binary pieces (binary.go)
	}
	s.lastInput = t.now()
	t.followResize(s, msg)
	keys := string(text)
	if msg.RawGetString("type") == lua.LString("msg") {
		keys += "\r"
	}
	if !s.stream.bridge.Keys(keys) {
		t.noisy.Warn("keys for a door dropped: it does not read them fast enough", "conn_id", s.connID)
	}
}
