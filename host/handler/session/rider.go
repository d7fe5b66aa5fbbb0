package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Journal riders: before a write call (luaapi.Recorder) a session's
// pending journal entries must be stored, so that a replay finds the
// journal ending at the write, whose outcome it cannot know, and diverges
// rather than writing twice. For a call whose every effect is a store
// write transaction (luaapi.RidingRecorder), the entries ride in the
// first of them (a store.Rider on the session's context, vmctx.go)
// instead of a transaction of their own before it; the write's own entry
// then waits for the resume's group commit (Table.Commit), or the next
// write's rider, like any other entry. What a host killed at any instant
// leaves:
//
//   - before the write's COMMIT: neither the write nor the entries up to
//     it. The journal ends where the last commit left it, before the
//     request that led to the write; the caller never saw its reply
//     (replies wait for Commit), and a replay brings them back to the
//     prompt before it, where the write is made once, live.
//   - after the write's COMMIT, before the group commit: the write and the
//     entries up to it, not the write's own entry. The journal ends at the
//     write: its replay diverges there (the caller is told the board was
//     upgraded) and never writes again, as when the flush before a write
//     was a transaction of its own.
//   - after the group commit: everything; the replay answers the write
//     from the journal.
//
// So at most one write is ever without its entry (a second write's rider
// carries the first's entry), and no write is run twice. A rider whose
// count check fails (another host wrote the journal: it has the caller
// now) rolls the write back: this host never writes for a caller it lost,
// and the session ends as lost (checkLost). A rider no transaction took
// (the call failed before writing, or wrote nothing) leaves the entries
// pending, as they were.

// riding is a rider offered for one write call.
type riding struct {
	r  *store.Rider
	vc *vmContext
}

// offerRider offers s's pending entries to the store transaction of the
// write call L is about to make, or returns nil if they cannot ride (the
// caller must then flush them first): nothing pending, a rider offered
// already, entries the store would refuse, or L's context not reaching
// the session's.
func (t *Table) offerRider(L *lua.LState, s *Session) *riding {
	j := s.journal
	if len(j.pending) == 0 || L.Context() == nil {
		return nil
	}
	vc, ok := s.thread.Context().(*vmContext)
	if !ok || vc.rider.Load() != nil {
		return nil
	}
	n := len(j.pending)
	w := store.JournalWrite{ConnID: s.connID, Count: j.next, Entries: j.pending[:n:n]}
	if j.reset {
		w.Reset, w.Count = true, j.resetHeld
	}
	r, err := store.NewRider(w)
	if err != nil {
		return nil // flushJournal meets the same refusal, and gives up
	}
	vc.rider.Store(r)
	if store.ContextRider(L.Context()) != r {
		vc.rider.Store(nil)
		return nil
	}
	return &riding{r: r, vc: vc}
}

// settleRider takes rd off s's context once its call returned (or
// raised) and records what became of it.
func (t *Table) settleRider(s *Session, rd *riding) {
	rd.vc.rider.CompareAndSwap(rd.r, nil)
	rd.r.Withdraw() // no later store call may take it
	switch {
	case rd.r.Stored():
		t.jcounts.writes.Add(1)
		t.jcounts.riders.Add(1)
		t.storedFirst(s, rd.r.Entries())
	case rd.r.Conflict() != nil:
		t.jcounts.writeErrors.Add(1)
		t.giveUp(s, rd.r.Conflict())
	}
}

// withdrawRider takes back a rider offered on s's context and not taken
// yet, before its entries are stored another way (flushJournal).
func (t *Table) withdrawRider(s *Session) {
	if s.thread == nil {
		return // hibernated: no call is running
	}
	if vc, ok := s.thread.Context().(*vmContext); ok {
		if r := vc.rider.Load(); r != nil {
			r.Withdraw()
		}
	}
}
