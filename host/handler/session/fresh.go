package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Caller identity. A conn id names one connection of one front end, and
// only while it lasts: a front end that restarts may hand the same id to
// someone else. So a "connect" line always starts a new session, and the
// host forgets every session of a front end that went away (Forget),
// without a word to the conn ids, which may already be other callers'.

// freshCall ends s, whose conn id just said "connect" (what a client sends
// first): whatever that id did before is dropped, journal included, and
// the caller starts a new session. It returns nil, for Handle.
func (t *Table) freshCall(s *Session) *Session {
	s.log.Info("connect on a conn id with a session: starting a new call")
	t.dropJournal(s)
	t.remove(s)
	return nil
}

// Forget drops connID's session, if any, without a word to anyone: its
// front end went away, and the id may belong to another caller by now.
// Its journal is dropped and the replies held for it are not sent. It
// reports whether there was a session.
func (t *Table) Forget(connID string) bool {
	s := t.sessions[connID]
	if s == nil {
		return false
	}
	s.log.Info("front end gone: session dropped")
	t.counts.disconnected.Add(1)
	t.dropJournal(s)
	t.dropHeldFor(connID)
	t.remove(s)
	return true
}

// sameAddress reports whether req comes from the address the journaled
// call began from (REMOTE_ADDR). A call's connection keeps its address, so
// a line from elsewhere on that conn id is someone else's: a front end
// that restarted while no host noticed (the host was down too) handed the
// id out again. That caller starts a new call, which replaces the journal.
// It fails closed: when only one of the two carries an address, they came
// from different front ends (a front end always passes it or never does),
// so the journal is not replayed. Only when neither has one (a front end
// that never passes addresses) is the conn id all there is to go by.
func (t *Table) sameAddress(loaded loadedJournal, req *m2proto.Request) bool {
	first, err := loaded.entries[0].Request.Decode()
	if err != nil {
		return true // the replay deals with an unreadable journal
	}
	was, now := first.Header("REMOTE_ADDR"), req.Header("REMOTE_ADDR")
	if was == now {
		return true
	}
	t.log.Warn("journal of a call from another address: not replayed, a new call starts", "conn_id", req.ConnID, "remote", now, "journal_remote", was)
	return false
}

// firstLine is the request a new call's journal starts with: req itself
// if it says "connect", else req with an empty line. A line that starts a
// call without "connect" answered a prompt of a call this host no longer
// has (its journal was lost or belongs to another address): it may be a
// password, and no prompt of the new call marked it secret.
func firstLine(req *m2proto.Request, msg *lua.LTable) *m2proto.Request {
	line := msg.RawGetString("msg")
	if line == lua.LString("connect") {
		return req
	}
	blank := *req
	msg.RawSetString("msg", lua.LString(""))
	body, err := luaapi.AppendJSON(nil, msg)
	msg.RawSetString("msg", line)
	if err != nil {
		body = []byte(`{"type":"msg","msg":""}`)
	}
	blank.Body = body
	return &blank
}
