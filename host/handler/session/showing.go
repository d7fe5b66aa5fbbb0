package session

import (
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
)

// Showing is where a caller stands, as a sysop who starts watching them
// sees it first (the host's watch, dispatch/watch.go).
type Showing struct {
	// Sender is the handler ident the caller's requests come tagged with:
	// replies to them go to it.
	Sender string
	// User is the name they logged in with, "" before they have.
	User string
	// Prompt is the last prompt they were sent, if HasPrompt: the screen
	// they are answering.
	Prompt    message.Message
	HasPrompt bool
}

// Showing reports where connID's caller stands, and whether they have a
// session on this table.
func (t *Table) Showing(connID string) (Showing, bool) {
	s := t.sessions[connID]
	if s == nil {
		return Showing{}, false
	}
	out := Showing{Sender: s.conn.Sender, User: s.user}
	if p := s.conn.LastPrompt(); p != nil {
		out.Prompt, out.HasPrompt = *p, true
	}
	return out, true
}

// Touch counts now as connID's last input, so that their idle time starts
// over: the host's chat with the sysop takes their lines without their
// script seeing them. Their journal is noted as written now, so that the
// pruning of journals nobody wrote for the idle timeout (calls that ended
// without a word) keeps it however long the chat lasts.
func (t *Table) Touch(connID string) {
	s := t.sessions[connID]
	if s == nil {
		return
	}
	s.lastInput = t.now()
	if !t.journaling(s) || !s.journal.stored || len(s.journal.pending) > 0 {
		return // nothing stored to keep, or a commit that will note it
	}
	errs, err := t.journals.WriteJournals(journalContext(), []store.JournalWrite{{ConnID: connID, Count: s.journal.next}})
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		s.log.Warn("journal not noted as written during a chat: past the idle timeout it may be pruned", "err", err)
	}
}
