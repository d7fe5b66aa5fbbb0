package session

import "github.com/m2bbs/m2bbs/host/shared/keystroke"

// Keystroke mode on the host's side (docs/clients.md): a request of type
// "keys" resumes the caller's coroutine like a line, and is journaled
// like one, so an editor or a door bridge driven by keys replays after a
// restart. It is taken only from a caller the script put in keystroke
// mode (its last message to them was of type "keys"), at most
// keystroke.MaxRequestBytes a request and keystroke.HostKeysPerSecond
// requests a second (burst keystroke.HostKeysBurst); anything else is
// dropped unanswered and counted (Stats.KeysDropped): a keys request
// gets no prompt back, so there is nothing to answer it with. Keys do
// not count against the caller's line rate.

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
		return false
	}
	return true
}

// takesKeys reports whether s's caller is in keystroke mode, so that a
// keys request may resume them; a keys request for no session (a caller
// whose journal could not rebuild one) or for a session at a prompt (keys
// typed just before the script left keystroke mode) is dropped.
func (t *Table) takesKeys(s *Session, connID string) bool {
	if s == nil || !s.conn.KeysMode() {
		t.dropKeys(connID, "keys while not in keystroke mode")
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
