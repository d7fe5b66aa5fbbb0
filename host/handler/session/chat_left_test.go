package session

import (
	"strings"
	"testing"
)

// Lee speaks in the lobby at the moment Kim types /join cellar (Lee's
// event reaches Kim's worker behind Kim's line, as a worker's inbox
// orders them): Kim, in the cellar, is not shown the lobby's line as if
// said there.
func TestLineOfARoomLeftIsNotShownInTheNext(t *testing.T) {
	h := chatRooms(t)
	handle(h.tables[0], msg("2", "the door code is 4711")) // lee, lobby: events for kim and max pending
	handle(h.tables[0], msg("1", "/join cellar"))          // kim's line was queued before the event
	h.pump()
	got := lines(h)
	if !strings.Contains(got, "1 prompt:You are in cellar.") {
		t.Fatalf("kim's /join: %q", got)
	}
	if strings.Contains(got, "1 prompt:lee: the door code is 4711") {
		t.Errorf("kim, in the cellar, was shown the lobby's line as live:\n%s", got)
	}
}

// Lee speaks as Kim types /quit: nothing is kept for Kim, who listens
// nowhere now, and back in the chat he sees Lee's line once (in
// 'Lately:'), not again as if said now.
func TestLineOfAChatLeftIsNotKeptForLater(t *testing.T) {
	h := chatRooms(t)
	handle(h.tables[0], msg("2", "the door code is 4711"))
	handle(h.tables[0], msg("1", "/quit"))
	h.pump()
	h.recs[0].take()
	if n := len(h.tables[0].sessions["1"].events); n != 0 {
		t.Errorf("kim left the chat (listens on no channel) but %d event(s) are kept for him", n)
	}
	h.say(0, "1", "3") // the Teleconference again
	got := repliesTo(h.recs[0], "1")
	if c := strings.Count(got, "lee: the door code is 4711"); c != 1 {
		t.Errorf("kim, back in the chat, was shown lee's old line %d times, want once (Lately):\n%s", c, got)
	}
}

// Lee speaks while Kim's worker has Kim's /quit and his return to the
// Teleconference queued: the event is kept for Kim first (he listens in
// the lobby then), and his lines run before it is shown. Back in the
// chat he sees Lee's line once, in 'Lately:', not again as if said now:
// leaving a channel drops what was kept of it.
func TestLineKeptBeforeLeavingIsNotShownAfterRejoining(t *testing.T) {
	h := chatRooms(t)
	handle(h.tables[0], msg("2", "the door code is 4711"))
	var others []pendingEvent
	for _, p := range h.pending {
		if p.connID == "1" {
			h.tables[0].Wake(p.connID, p.ev.Channel, p.ev.From, p.ev.Text, p.ev.Stamp) // kept, not yet shown
		} else {
			others = append(others, p)
		}
	}
	h.pending = others
	handle(h.tables[0], msg("1", "/quit"))
	handle(h.tables[0], msg("1", "3"))
	h.tables[0].DeliverEvents() // the worker's queue is empty now
	h.tables[0].Commit()
	h.pump()
	got := repliesTo(h.recs[0], "1")
	if !strings.Contains(got, "Lately:") || strings.Count(got, "lee: the door code is 4711") != 1 {
		t.Errorf("kim, back in the chat, was shown lee's line %d times, want once (Lately):\n%s",
			strings.Count(got, "lee: the door code is 4711"), got)
	}
}

// Lee speaks as Kim types /quit and comes straight back to the
// Teleconference, both lines queued before the event on Kim's worker:
// back in the lobby Kim sees Lee's line once (in 'Lately:'), not again
// as if said after he came back.
func TestLineSaidBeforeLeavingAndComingBackIsNotShownAsNew(t *testing.T) {
	h := chatRooms(t)
	handle(h.tables[0], msg("2", "the door code is 4711")) // lee, lobby: the event for kim is on its way
	handle(h.tables[0], msg("1", "/quit"))
	handle(h.tables[0], msg("1", "3")) // the Teleconference again: the lobby
	h.pump()
	got := repliesTo(h.recs[0], "1")
	if !strings.Contains(got, "You are in lobby.") {
		t.Fatalf("kim is not back in the lobby:\n%s", got)
	}
	if c := strings.Count(got, "lee: the door code is 4711"); c != 1 {
		t.Errorf("kim, back in the lobby, was shown lee's line %d times, want once (Lately, not again as said after he came back):\n%s", c, got)
	}
}

// repliesTo takes what rec holds and returns the replies to connID's
// caller among them.
func repliesTo(rec *recorder, connID string) string {
	var out []string
	for _, r := range rec.take() {
		if strings.HasPrefix(r, connID+" ") {
			out = append(out, r)
		}
	}
	return strings.Join(out, "\n")
}
