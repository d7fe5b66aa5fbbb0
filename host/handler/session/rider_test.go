package session

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// TestARiderConflictMakesNoWrite: host B took the caller over (their
// journal moved on there) while host A still holds the session; the post
// A then attempts carries A's journal, whose count no longer follows: the
// post is not made, and A lets go of the caller without a word.
func TestARiderConflictMakesNoWrite(t *testing.T) {
	b := newJournaledBoard(t)
	a, recA := b.table(t)
	converse(a, recA, "1", "connect", "ann", "pw", "pw", "y", "1", "from a")
	bTbl, recB := b.table(t)
	expect(t, converse(bTbl, recB, "1", "from b"), "1 prompt:")
	if got := converse(a, recA, "1", "."); len(got) != 0 {
		t.Errorf("host A answered: %q", got)
	}
	if a.Has("1") {
		t.Error("host A kept the session")
	}
	if n := len(posts(t, b.db)); n != 0 {
		t.Fatalf("host A posted for a caller it had lost: %d posts", n)
	}
	if st := a.JournalStats(); st.Riders != 0 || st.WriteErrors != 1 {
		t.Errorf("host A's journal stats %+v, want the rider refused", st)
	}
	expect(t, converse(bTbl, recB, "1", "."), "1 screen:Message posted. Thanks!", "1 prompt:---(((MAIN MENU)))---")
	msgs := posts(t, b.db)
	if len(msgs) != 1 || strings.Join(msgs[0].Lines, "|") != "from a|from b" {
		t.Errorf("posts %+v, want host B's one", msgs)
	}
}

// TestAFailedWriteKeepsItsJournalForTheGroupCommit: a post the store
// refuses with a fault takes no rider: the caller is told as without a
// journal, the entries up to it are stored with the resume's, and a
// replay on another host finds the caller back at the menu, with no post.
func TestAFailedWriteKeepsItsJournalForTheGroupCommit(t *testing.T) {
	b := newJournaledBoard(t)
	disk := &fullDisk{SQLite: b.db}
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true,
	}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: disk, Log: slog.New(slog.NewTextHandler(&b.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	disk.full.Store(true)
	before := tbl.JournalStats()
	got := strings.Join(converse(tbl, rec, "1", "1", "hello", "."), "\n")
	if !strings.Contains(got, "Your message was not saved: the board's disk is full.") || !strings.Contains(got, "MAIN MENU") {
		t.Errorf("the poster saw:\n%s", got)
	}
	if st := tbl.JournalStats(); st.Riders != before.Riders || st.Flushes != before.Flushes || st.WriteErrors != 0 {
		t.Errorf("journal stats %+v (before the post %+v), want no rider, no flush, no error", st, before)
	}
	crash(tbl)
	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want a clean replay", st)
	}
	if n := len(posts(t, b.db)); n != 0 {
		t.Errorf("%d posts, want none", n)
	}
}
