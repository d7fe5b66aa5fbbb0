package session

import (
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Events of the shared module: a caller waiting in shared.ask is resumed
// by the events published on the channels they listen on, as if by a line
// of theirs, so that their script can show them and redraw.
//
//   - Wake only keeps an event for its caller. DeliverEvents, which the
//     host's worker runs when it has no more requests waiting (before
//     Commit), resumes each caller waiting in shared.ask once, with every
//     event kept for them: a burst of events costs a listener one resume,
//     and one screen if the script shows them together. (A front end
//     hangs up on a caller with more than 16 replies waiting to be
//     written, as Mongrel2 does: a message per event could get listeners
//     cut off by someone else's flood.)
//   - The events reach the session as a request the host makes, whose
//     data has type "event" and the list "events" (a caller's own lines
//     are always of type "msg"); shared.ask turns it into its second
//     result. It is journaled as a request: a replay resumes the script
//     with it at the same prompt, without the events being published
//     again.
//   - Events for a caller elsewhere than in shared.ask (at another
//     prompt, or running) are kept, up to MaxQueuedEvents, and delivered
//     when they next wait in shared.ask; past that they are dropped and
//     counted. Events are not input: they neither count against the
//     caller's rate limit nor keep them from being idle.

// MaxQueuedEvents bounds the events kept for one caller.
const MaxQueuedEvents = 32

// queuedEvent is an event waiting for its caller.
type queuedEvent struct {
	channel, from, text string
	// stamp is the event's stamp from Channels (live.Event.Stamp).
	stamp int64
}

// listen marks the caller on L as waiting in shared.ask (luaapi.Deps.Listen).
func (t *Table) listen(L *lua.LState) {
	if s := t.sessionOn(L); s != nil {
		s.listening = true
	}
}

// leftChannel drops the events of channel kept for the caller on L, who
// left it (luaapi.Deps.LeftChannel): a caller who rejoins before they are
// shown must not see them as if said now.
func (t *Table) leftChannel(L *lua.LState, channel string) {
	if s := t.sessionOn(L); s != nil {
		s.events = slices.DeleteFunc(s.events, func(ev queuedEvent) bool { return ev.channel == channel })
	}
}

// hearsChecker is implemented by Channels that know who listens where
// now, and since when (live.Hub).
type hearsChecker interface {
	Hears(connID, channel string, stamp int64) bool
}

// hears reports whether connID's caller hears the event of channel
// stamped stamp: they listen there, and did when it was given out (true
// when Channels cannot tell).
func (t *Table) hears(connID, channel string, stamp int64) bool {
	hc, ok := t.deps.Channels.(hearsChecker)
	return !ok || hc.Hears(connID, channel, stamp)
}

// Wake keeps an event published on channel, said by from, stamped stamp
// by Channels (live.Event.Stamp), for connID's caller, until
// DeliverEvents. It reports false when the caller has no session here or
// MaxQueuedEvents wait already (the event is dropped). An event of a
// channel the caller has left since it was given out (a /join or /quit
// handled first), or left and come back to, is dropped without a word.
func (t *Table) Wake(connID, channel, from, text string, stamp int64) bool {
	s := t.sessions[connID]
	if s == nil {
		return false
	}
	if !t.hears(connID, channel, stamp) {
		return true
	}
	if len(s.events) >= MaxQueuedEvents {
		t.counts.eventsDropped.Add(1)
		t.noisy.Warn("event dropped: too many wait for the caller", "conn_id", connID, "channel", channel)
		return false
	}
	s.events = append(s.events, queuedEvent{channel, from, text, stamp})
	if !s.eventsDue {
		s.eventsDue = true
		t.eventsDue = append(t.eventsDue, s)
	}
	return true
}

// DeliverEvents resumes each caller with events kept who waits in
// shared.ask, once, with all of them. It returns the conn ids of the
// callers whose sessions ended meanwhile.
func (t *Table) DeliverEvents() (ended []string) {
	due := t.eventsDue
	t.eventsDue = nil
	for _, s := range due {
		s.eventsDue = false
		if t.sessions[s.connID] != s {
			continue
		}
		t.deliverEvents(s)
		if t.sessions[s.connID] != s {
			ended = append(ended, s.connID)
		}
	}
	return ended
}

// deliverEvents resumes s with the events kept for it, if it waits in
// shared.ask; else they wait on. Those of channels the caller has left
// since they were kept are dropped.
func (t *Table) deliverEvents(s *Session) {
	if len(s.events) == 0 || !s.listening || t.sessions[s.connID] != s || s.waitingForWork() {
		return
	}
	events := s.events
	s.events = nil
	events = slices.DeleteFunc(events, func(ev queuedEvent) bool { return !t.hears(s.connID, ev.channel, ev.stamp) })
	if len(events) == 0 {
		return
	}
	if t.journals != nil {
		t.hold() // until Commit, as for a line
	}
	req := eventRequest(s, events)
	reqTable, err := t.requestTable(req)
	if err != nil {
		s.log.Warn("events not delivered", "err", err)
		return
	}
	msg, _ := reqTable.RawGetString("data").(*lua.LTable)
	t.counts.events.Add(int64(len(events)))
	t.journalRequest(s, req, msg)
	t.resume(s, reqTable)
	t.settleJournal(s)
}

// eventRequest is the request events resume s with:
// {"type":"event","events":[{"channel":...,"from":...,"text":...},...]}.
func eventRequest(s *Session, events []queuedEvent) *m2proto.Request {
	body := []byte(`{"type":"event","events":[`)
	for i, ev := range events {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"channel":`...)
		body = message.AppendString(body, ev.channel)
		body = append(body, `,"from":`...)
		body = message.AppendString(body, ev.from)
		body = append(body, `,"text":`...)
		body = message.AppendString(body, ev.text)
		body = append(body, '}')
	}
	body = append(body, "]}"...)
	return &m2proto.Request{Sender: s.conn.Sender, ConnID: s.connID, Path: "@event", Body: body}
}
