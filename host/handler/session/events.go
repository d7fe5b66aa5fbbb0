package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Events of the shared module: a caller waiting in shared.ask is resumed
// by an event published on a channel they listen on, as if by a line of
// theirs, so that their script can show it and redraw.
//
//   - The event reaches the session as a request the host makes, whose
//     data has type "event" (a caller's own lines are always of type
//     "msg"); shared.ask turns it into its second result. It is journaled
//     as a request: a replay resumes the script with it at the same
//     prompt, without the event being published again.
//   - An event that finds the caller elsewhere than in shared.ask (at
//     another prompt, or running) is kept, up to MaxQueuedEvents, and
//     delivered when they next wait in shared.ask; past that it is
//     dropped and counted. Events are not input: they neither count
//     against the caller's rate limit nor keep them from being idle.

// MaxQueuedEvents bounds the events kept for one caller who is not
// waiting in shared.ask.
const MaxQueuedEvents = 32

// queuedEvent is an event waiting for its caller.
type queuedEvent struct {
	channel, from, text string
}

// listen marks the caller on L as waiting in shared.ask (luaapi.Deps.Listen).
func (t *Table) listen(L *lua.LState) {
	if s := t.sessionOn(L); s != nil {
		s.listening = true
	}
}

// Wake gives connID's caller an event published on channel, said by from:
// it resumes them now if they wait in shared.ask, else keeps it for when
// they do. It reports false when the caller has no session here or too
// many events wait already (the event is dropped).
func (t *Table) Wake(connID, channel, from, text string) bool {
	s := t.sessions[connID]
	if s == nil {
		return false
	}
	if len(s.events) >= MaxQueuedEvents {
		t.counts.eventsDropped.Add(1)
		t.noisy.Warn("event dropped: too many wait for the caller", "conn_id", connID, "channel", channel)
		return false
	}
	s.events = append(s.events, queuedEvent{channel, from, text})
	t.deliverEvents(s)
	return true
}

// deliverEvents resumes s with its waiting events, one at a time, while
// it waits in shared.ask.
func (t *Table) deliverEvents(s *Session) {
	for len(s.events) > 0 && s.listening && t.sessions[s.connID] == s && !s.waitingForWork() {
		ev := s.events[0]
		s.events[0] = queuedEvent{}
		s.events = s.events[1:]
		if t.journals != nil {
			t.hold() // until Commit, as for a line
		}
		req := eventRequest(s, ev)
		reqTable, err := t.requestTable(req)
		if err != nil {
			s.log.Warn("event not delivered", "err", err)
			continue
		}
		msg, _ := reqTable.RawGetString("data").(*lua.LTable)
		t.counts.events.Add(1)
		t.journalRequest(s, req, msg)
		t.resume(s, reqTable)
		t.settleJournal(s)
	}
	if len(s.events) == 0 {
		s.events = nil
	}
}

// eventRequest is the request an event resumes s with.
func eventRequest(s *Session, ev queuedEvent) *m2proto.Request {
	m := message.Message{Type: "event", Msg: ev.text, Extra: []message.Member{
		{Key: "channel", Value: message.AppendString(nil, ev.channel)},
		{Key: "from", Value: message.AppendString(nil, ev.from)},
	}}
	return &m2proto.Request{Sender: s.conn.Sender, ConnID: s.connID, Path: "@event", Body: m.AppendJSON(nil)}
}
