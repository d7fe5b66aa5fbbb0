package session

import "github.com/m2bbs/m2bbs/host/message"

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
// script seeing them (ReapIdle notes their journal as written meanwhile).
func (t *Table) Touch(connID string) {
	if s := t.sessions[connID]; s != nil {
		s.lastInput = t.now()
	}
}
