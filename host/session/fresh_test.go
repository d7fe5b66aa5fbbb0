package session

import (
	"context"
	"strings"
	"testing"
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
