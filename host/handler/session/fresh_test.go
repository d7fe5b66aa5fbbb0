package session

import (
	"context"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// TestConnectOnALiveSessionStartsAfresh: a "connect" on a conn id whose
// session is live (a caller who got the id of someone else's call) starts a
// new call at the login screen, and the old call's journal is gone: its
// menu is never shown to the newcomer.
func TestConnectOnALiveSessionStartsAfresh(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "7", "connect", "sysop", "pw", "pw", "y")
	got := converse(tbl, rec, "7", "connect")
	expect(t, got, "7 prompt:           ____  _     _         ")
	if got := converse(tbl, rec, "7", "5"); strings.Contains(strings.Join(got, "\n"), "Online now") {
		t.Fatalf("the new caller reached the old caller's menu:\n%s", strings.Join(got, "\n"))
	}
	// Only the new call's journal is left: it starts with its connect.
	tbl.sessions = map[string]*Session{}
	tbl2, rec2 := b.table(t)
	got = converse(tbl2, rec2, "7", "pw")
	if joined := strings.Join(got, "\n"); strings.Contains(joined, "MAIN MENU") {
		t.Fatalf("a replay of conn 7 reached the main menu:\n%s", joined)
	}
}

// TestForgetDropsSessionAndJournalSilently: once the front end is gone, a
// session is forgotten without a word (its conn id may be someone else's
// now), and nothing of it can be replayed.
func TestForgetDropsSessionAndJournalSilently(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "3", "connect", "ann", "pw", "pw", "y")
	if !tbl.Forget("3") {
		t.Fatal("Forget found no session")
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("Forget sent %q", got)
	}
	if tbl.Has("3") || tbl.Forget("3") {
		t.Error("the session outlived Forget")
	}
	if j, _, _ := b.db.LoadJournal(context.Background(), "3"); len(j) != 0 {
		t.Errorf("the journal of a forgotten session holds %d entries", len(j))
	}
	got := converse(tbl, rec, "3", "5")
	if joined := strings.Join(got, "\n"); strings.Contains(joined, "MAIN MENU") || strings.Contains(joined, "Online now") {
		t.Fatalf("a newcomer on conn 3 reached ann's menu:\n%s", joined)
	}
}

// msgFrom is msg with the caller's address.
func msgFrom(connID, addr, text string) *m2proto.Request {
	req := msg(connID, text)
	req.Headers = append(req.Headers, m2proto.Header{Name: "REMOTE_ADDR", Value: addr})
	return req
}

// TestJournalReplaysOnlyForItsAddress: after a restart of both the host
// and the front end, a line on a journaled conn id from another address is
// a new call; from the caller's own address the call goes on.
func TestJournalReplaysOnlyForItsAddress(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	for _, line := range []string{"connect", "ann", "pw", "pw", "y"} {
		handle(tbl, msgFrom("4", "192.0.2.1", line))
	}
	rec.take()
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, msgFrom("4", "192.0.2.99", "5"))
	got := strings.Join(rec2.take(), "\n")
	if strings.Contains(got, "MAIN MENU") || tbl2.JournalStats().Replayed != 0 {
		t.Fatalf("a line from another address was replayed into ann's call:\n%s", got)
	}

	crash(tbl2)
	// The newcomer's call replaced ann's journal: ann's own address gets
	// nothing of hers back either (her connection is gone anyway).
	tbl4, rec4 := b.table(t)
	handle(tbl4, msgFrom("4", "192.0.2.1", "5"))
	if got := strings.Join(rec4.take(), "\n"); strings.Contains(got, "MAIN MENU") {
		t.Fatalf("ann's journal outlived the new call:\n%s", got)
	}
}

// TestJournalReplaysForTheSameAddress: the host alone restarted; the caller
// types from the address the call began from and goes on where they were.
func TestJournalReplaysForTheSameAddress(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	for _, line := range []string{"connect", "bea", "pw", "pw", "y"} {
		handle(tbl, msgFrom("6", "192.0.2.1", line))
	}
	rec.take()
	crash(tbl)
	tbl2, rec2 := b.table(t)
	handle(tbl2, msgFrom("6", "192.0.2.1", "?"))
	if got := strings.Join(rec2.take(), "\n"); !strings.Contains(got, "MAIN MENU") {
		t.Fatalf("bea did not go on at the main menu:\n%s", got)
	}
}

// TestJournalWithAnAddressIsNotReplayedForALineWithout: a journaled call
// began from an address; a line on its conn id that carries none (another
// front end) is a new call, and the other way round too.
func TestJournalWithAnAddressIsNotReplayedForALineWithout(t *testing.T) {
	for _, tc := range []struct{ name, was, now string }{
		{"journal has an address", "192.0.2.1", ""},
		{"line has an address", "", "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newJournaledBoard(t)
			tbl, rec := b.table(t)
			for _, line := range []string{"connect", "ann", "pw", "pw", "y"} {
				handle(tbl, msgFrom("4", tc.was, line))
			}
			rec.take()
			crash(tbl)
			tbl2, rec2 := b.table(t)
			handle(tbl2, msgFrom("4", tc.now, "5"))
			got := strings.Join(rec2.take(), "\n")
			if strings.Contains(got, "MAIN MENU") || strings.Contains(got, "Online now") || tbl2.JournalStats().Replayed != 0 {
				t.Fatalf("ann's journal was replayed for a line from another front end:\n%s", got)
			}
		})
	}
}
