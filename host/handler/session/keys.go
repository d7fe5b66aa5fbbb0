package session

import (
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Keystroke mode on the host's side (docs/clients.md): a request of type
// "keys" resumes the caller's coroutine like a line, and is journaled
// like one, so an editor or a door bridge driven by keys replays after a
// restart. It is taken only from a caller the script put in keystroke
// mode (a message of type "keys" since the last prompt or exit), at most
// keystroke.MaxRequestBytes a request and keystroke.HostKeysPerSecond
// requests a second (burst keystroke.HostKeysBurst; keysFloodCutOff past
// it, before the caller pauses long enough to earn a whole burst back,
// end the call as a flood); anything else is dropped unanswered and
// counted (Stats.KeysDropped): a keys request gets no prompt back, so
// there is nothing to answer it with. Keys do not count against the
// caller's line rate.

// admitKeys applies the keys limits to a keys request of n bytes from
// connID's caller (s, nil when the caller has no session here yet).
func (t *Table) admitKeys(s *Session, connID string, n int) bool {
	if n > keystroke.MaxRequestBytes {
		t.dropKeys(connID, "keys request too long")
		return false
	}
	if s != nil && !s.keyRate.take(t.now(), keystroke.HostKeysPerSecond, keystroke.HostKeysBurst) {
		if s.keyRate.refused == 1 {
			s.log.Warn("keystrokes too fast: dropped", "max_per_second", keystroke.HostKeysPerSecond)
		}
		t.counts.keysDropped.Add(1)
		if s.keyRate.refused > keysFloodCutOff {
			s.log.Warn("caller flooded the board with keys: disconnecting", "refused", s.keyRate.refused)
			t.end(s, t.cfg.FloodScreen, fallbackFloodText)
		}
		return false
	}
	return true
}

// keysFloodCutOff is how many keys requests past the host's keys rate,
// before the caller pauses long enough to earn a whole burst back (2 s),
// end the call as a flood: no gateway sends that many (they
// pace at keystroke.RequestsPerSecond, under the host's rate).
const keysFloodCutOff = 4 * keystroke.HostKeysBurst

// takesKeys reports whether s's caller is in keystroke mode, so that a
// keys request may resume them. A keys request for a session at a prompt
// (keys typed just before the script left keystroke mode) is dropped; one
// for no session at all (a restart without a journal to rebuild it) makes
// the caller a stray (newStray).
func (t *Table) takesKeys(s *Session, req *m2proto.Request) bool {
	if s == nil {
		t.newStray(req)
		return false
	}
	if !s.conn.KeysMode() {
		t.dropKeys(req.ConnID, "keys while not in keystroke mode")
		return false
	}
	return true
}

// dropKeys counts a dropped keys request and logs why, at debug level
// (a caller can cause it at will).
func (t *Table) dropKeys(connID, why string) {
	t.counts.keysDropped.Add(1)
	t.log.Debug(why, "conn_id", connID)
}

// DefaultMaxJournaledKeys is Config.MaxJournaledKeys's default: the keys
// requests one session's journal keeps since it began (or since its last
// checkpoint). Past it journaling is
// given up for the session, which lives on in this host but will not
// survive a restart, and its journal is dropped. A keys request costs
// about a kilobyte of journal at most, so this bounds a caller's journal
// at some 50 MB however long they type; an editor session rarely takes
// more than a few thousand keys.
const DefaultMaxJournaledKeys = 50000

// errTooManyKeys is why a session's journal was given up.
var errTooManyKeys = errors.New("too many keystrokes journaled since the last checkpoint")

// countJournaledKeys counts a journaled request msg of s, giving up the
// journal past Config.MaxJournaledKeys keys requests.
func (t *Table) countJournaledKeys(s *Session, msg *lua.LTable) {
	if !t.journaling(s) || msg.RawGetString("type") != lua.LString(message.TypeKeys) {
		return
	}
	s.journal.keys++
	if s.journal.keys > t.cfg.MaxJournaledKeys {
		t.giveUp(s, errTooManyKeys)
	}
}

// Strays: a caller in keystroke mode whose session is gone (the host
// restarted without a journal to rebuild it, or the journal was given
// up) sends keys that nothing here waits for. The first is answered with
// a prompt, which ends keystroke mode at their gateway: their next line
// starts a new call. Later keys from the conn id are dropped without
// reading the journal store again, and past strayCutOff of them the
// connection is closed. At most maxStrays conn ids are remembered.
const (
	strayCutOff = 100
	maxStrays   = 4096
)

// strayText is the prompt a stray gets.
const strayText = "The board lost your place (it restarted). Press Enter to go on."

// knownStray reports whether req, a keys request for no session, comes
// from a known stray; it drops it, closing the connection past
// strayCutOff.
func (t *Table) knownStray(req *m2proto.Request) bool {
	n, ok := t.strays[req.ConnID]
	if !ok {
		return false
	}
	n++
	t.strays[req.ConnID] = n
	t.dropKeys(req.ConnID, "keys with no session")
	if n == strayCutOff {
		t.noisy.Warn("keys with no session, again and again: hanging up", "conn_id", req.ConnID, "dropped", n)
		if err := t.deps.Replier.Reply(req.Sender, []string{req.ConnID}, nil); err != nil {
			t.log.Warn("hang up a stray", "conn_id", req.ConnID, "err", err)
		}
	}
	return true
}

// newStray remembers req's conn id as a stray and answers it with
// strayText, straight to the caller: they have no session to hold the
// reply for.
func (t *Table) newStray(req *m2proto.Request) {
	t.dropKeys(req.ConnID, "keys with no session")
	if t.strays == nil || len(t.strays) >= maxStrays {
		t.strays = make(map[string]int)
	}
	t.strays[req.ConnID] = 1
	if err := t.deps.Replier.SendMessage(req.Sender, []string{req.ConnID}, message.Prompt(strayText, luaapi.DefaultPromptChar)); err != nil {
		t.log.Warn("answer a stray", "conn_id", req.ConnID, "err", err)
	}
}

// forgetStray forgets connID as a stray: it sent a line, which starts or
// resumes a call.
func (t *Table) forgetStray(connID string) {
	if t.strays != nil {
		delete(t.strays, connID)
	}
}
