package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/journal"
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
	checkLetGo(t, a, converse(a, recA, "1", "."))
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

// scriptBoard is a journaled board, its journal snapshotted at each
// write (snapshotStore), with user zed and a bbs.lua whose m2bbs asks
// "text?", runs body, asks "more?" and says bye.
func scriptBoard(t *testing.T, body string) *journaledBoard {
	t.Helper()
	b := newJournaledBoard(t)
	b.snaps = &snapshotStore{SQLite: b.db}
	if err := b.db.RegisterUser(context.Background(), "zed", "pw"); err != nil {
		t.Fatal(err)
	}
	src := "require 'ui'\nrequire 'db'\nfunction m2bbs(conn, req)\n" +
		"    req = ui.ask(conn, req, 'text?')\n" + body +
		"\n    req = ui.ask(conn, req, 'more?')\n    ui.exit(conn, req, 'bye')\nend\n"
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// replayAfterCrash runs b's script up to "more?" on one host, which then
// dies leaving the journal as the last snapshot last accepts; the caller's
// next line reaches another host. It returns that host's replies, and the
// journal counters of both hosts.
func replayAfterCrash(t *testing.T, b *journaledBoard, last func(journal.Entry) bool) (got []string, dead, next JournalStats) {
	t.Helper()
	tbl, rec := b.table(t)
	expect(t, converse(tbl, rec, "1", "connect", "go"), "1 prompt:text?", "1 prompt:more?")
	crash(tbl)
	b.snaps.restore(t, last)
	tbl2, rec2 := b.table(t)
	got = converse(tbl2, rec2, "1", "again")
	return got, tbl.JournalStats(), tbl2.JournalStats()
}

// endsAtAPost and endsAtARequest pick the snapshot a post's COMMIT left:
// its rider ends at the post before it, or at the line that led to it.
func endsAtAPost(e journal.Entry) bool {
	return e.Kind == journal.KindCall && e.Name == "db.post_message"
}

func endsAtARequest(e journal.Entry) bool { return e.Kind == journal.KindRequest }

// checkPostCount fails t unless the board holds n posts.
func checkPostCount(t *testing.T, b *journaledBoard, n int, why string) {
	t.Helper()
	msgs := posts(t, b.db)
	if len(msgs) != n {
		t.Errorf("%d posts %+v, want %d: %s", len(msgs), msgs, n, why)
	}
}

// upgradedToTheTop is what a caller who had not logged in sees when their
// replay diverges on scriptBoard.
var upgradedToTheTop = []string{
	"1 screen:The board was upgraded while you were online: back to the main menu you go.",
	"1 prompt:text?",
}

// TestAPcalledRetryWhereTheJournalEndsDoesNotWriteTwice: the journal
// ends right after the first write's entry (the second write's rider stored
// it; the host died after the second write's COMMIT). The replay diverges
// at the second write; a script that retries it under pcall catches that
// Lua error, but every later host call raises it again (checkEnding) and
// the rest of the step sends nothing: the second post is not made twice.
// (From a hostile review.)
func TestAPcalledRetryWhereTheJournalEndsDoesNotWriteTwice(t *testing.T) {
	b := scriptBoard(t, `    db.post_message('zed', {'first'})
    for i = 1, 3 do
        if pcall(db.post_message, 'zed', {'second'}) then break end
    end`)
	got, _, _ := replayAfterCrash(t, b, endsAtAPost)
	expect(t, got, upgradedToTheTop...)
	checkPostCount(t, b, 2, "the 2 the dead host made")
}

// TestAPcalledDivergenceStopsEveryLaterCall: the host died after a post's
// COMMIT, which carried the journal up to it (the journal ends at the
// request). The replay diverges at the post, but the script catches it,
// asks the store something (a read: the journal has no entry for it) and
// retries: every host call after the divergence raises it again, so the
// post is not made a second time. (From a hostile review.)
func TestAPcalledDivergenceStopsEveryLaterCall(t *testing.T) {
	b := scriptBoard(t, `    if not pcall(db.post_message, 'zed', {'only'}) then
        db.message_count()
        pcall(db.post_message, 'zed', {'only'})
    end`)
	got, _, _ := replayAfterCrash(t, b, endsAtARequest)
	expect(t, got, upgradedToTheTop...)
	checkPostCount(t, b, 1, "the one the dead host made")
}

// TestALostCallerGetsNoWriteAfterAPcalledConflict: host B took the
// caller over; host A's next post carries A's journal, whose count no
// longer follows (rider conflict): the post is rolled back and errLost is
// raised, as a Lua error. A script whose post is under pcall catches it
// and posts again: every host call of a lost session raises errLost
// again, so host A never writes for the caller. (From a hostile review.)
func TestALostCallerGetsNoWriteAfterAPcalledConflict(t *testing.T) {
	b := scriptBoard(t, `    if not pcall(db.post_message, 'zed', {req.body or 'x'}) then
        db.post_message('zed', {'fallback'})
    end`)
	a, recA := b.table(t)
	expect(t, converse(a, recA, "1", "connect"), "1 prompt:text?")
	bTbl, recB := b.table(t)
	expect(t, converse(bTbl, recB, "1", "from b"), "1 prompt:more?")
	checkLetGo(t, a, converse(a, recA, "1", "from a"))
	checkPostCount(t, b, 1, "only host B's")
}

// checkLetGo fails t unless host a, which lost conn 1 to another host,
// let go of it without a word (got: its replies to the caller's line).
func checkLetGo(t *testing.T, a *Table, got []string) {
	t.Helper()
	if len(got) != 0 {
		t.Errorf("host A answered a caller it had lost: %q", got)
	}
	if a.Has("1") {
		t.Error("host A kept the session")
	}
}
