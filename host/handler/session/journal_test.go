package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// journaledBoard is a host's worth of state that outlives its tables: the
// database and the scripts folder (a copy of scripts/, so a test can edit
// it). Each call to table is a host started afresh on them.
type journaledBoard struct {
	db      *store.SQLite
	path    string // the database file
	scripts string
	logs    strings.Builder
	// snaps, if set, is the store the tables use (see snapshotStore).
	snaps *snapshotStore
	// replayBudget is the tables' Config.ReplayBudget (0: the default).
	replayBudget time.Duration
}

// snapshotStore keeps a copy of conn 1's stored journal after each
// journal write, so that a test can restore any moment a host could have
// died at.
type snapshotStore struct {
	*store.SQLite
	taken [][][]byte
}

func (s *snapshotStore) AppendJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	err := s.SQLite.AppendJournal(ctx, connID, count, entries)
	s.take(ctx, connID)
	return err
}

func (s *snapshotStore) ResetJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	err := s.SQLite.ResetJournal(ctx, connID, count, entries)
	s.take(ctx, connID)
	return err
}

func (s *snapshotStore) WriteJournals(ctx context.Context, writes []store.JournalWrite) ([]error, error) {
	errs, err := s.SQLite.WriteJournals(ctx, writes)
	s.take(ctx, "1")
	return errs, err
}

// PostMessage and ReadNextMail snapshot the journal after their write,
// which carries it (a rider) when it has entries pending.
func (s *snapshotStore) PostMessage(ctx context.Context, author string, lines []string) (store.Message, error) {
	m, err := s.SQLite.PostMessage(ctx, author, lines)
	s.take(ctx, "1")
	return m, err
}

func (s *snapshotStore) ReadNextMail(ctx context.Context, user string) (store.Mail, error) {
	m, err := s.SQLite.ReadNextMail(ctx, user)
	s.take(ctx, "1")
	return m, err
}

func (s *snapshotStore) take(ctx context.Context, connID string) {
	if connID == "1" {
		entries, _, _ := s.SQLite.LoadJournal(ctx, connID)
		s.taken = append(s.taken, entries)
	}
}

// restore makes conn 1's stored journal the last snapshot whose last entry
// last accepts: what a host that died right after that write left.
func (s *snapshotStore) restore(t *testing.T, last func(journal.Entry) bool) {
	t.Helper()
	for i := len(s.taken) - 1; i >= 0; i-- {
		snap := s.taken[i]
		if len(snap) == 0 {
			continue
		}
		e, err := journal.Parse(snap[len(snap)-1])
		if err != nil {
			t.Fatal(err)
		}
		if last(e) {
			if err := s.SQLite.ResetJournal(context.Background(), "1", -1, snap); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no snapshot ends as asked")
}

func newJournaledBoard(t *testing.T) *journaledBoard { return newJournaledBoardTB(t) }

func newJournaledBoardTB(t testing.TB) *journaledBoard {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scripts := t.TempDir()
	if err := os.CopyFS(scripts, os.DirFS("../../../scripts")); err != nil {
		t.Fatal(err)
	}
	return &journaledBoard{db: db, path: path, scripts: scripts}
}

// table starts a host's session table on the board.
func (b *journaledBoard) table(t *testing.T) (*Table, *recorder) { return b.tableTB(t, true) }

func (b *journaledBoard) tableTB(t testing.TB, journaled bool) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	var st store.Store = b.db
	if b.snaps != nil {
		st = b.snaps
	}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: journaled,
		ReplayBudget: b.replayBudget,
	}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   st,
		Log:     slog.New(slog.NewTextHandler(&b.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

// handle is what the host's worker does with a request when no other
// waits: Handle it, then Commit (store the journal, send the replies).
func handle(tbl *Table, req *m2proto.Request) {
	tbl.Handle(req)
	tbl.Commit()
}

// crash drops a table the way a killed host does: its coroutines are gone,
// nothing is said to anybody, the database keeps what was written.
func crash(tbl *Table) {
	tbl.sessions = map[string]*Session{} // no journal is dropped; Cleanup closes it
}

func TestSessionContinuesOnANewHostAfterACrash(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	// Ann is writing a message: two lines typed when the host dies.
	got := converse(tbl, rec, "1", "1", "first line", "second line")
	expect(t, got,
		"1 screen:Type your message, at most 24 lines. A line with a single . ends it.",
		"1 prompt:", "1 prompt:", "1 prompt:")
	crash(tbl)

	tbl2, rec2 := b.table(t)
	got = converse(tbl2, rec2, "1", "third line", ".")
	// Nothing of the old visit is sent again: the next prompt, then the post.
	expect(t, got, "1 prompt:", "1 screen:Message posted. Thanks!", "1 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want one replay and no divergence", st)
	}
	msgs := posts(t, b.db)
	if len(msgs) != 1 || strings.Join(msgs[0].Lines, "|") != "first line|second line|third line" {
		t.Fatalf("board holds %+v, want one post with all three lines", msgs)
	}
	// The session goes on as usual, and its journal goes when it ends.
	expect(t, converse(tbl2, rec2, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
		t.Errorf("journal of an ended session holds %d entries", len(j))
	}
}

func TestReplayNeverPostsTwice(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "bob", "pw", "pw", "y", "1", "only once", ".")
	// Bob has posted and is in the reader when the host dies.
	converse(tbl, rec, "1", "2")
	crash(tbl)
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", "Q")
	expect(t, got, "1 prompt:---(((MAIN MENU)))---")
	if msgs := posts(t, b.db); len(msgs) != 1 {
		t.Fatalf("%d posts after the replay, want 1", len(msgs))
	}
}

func TestCheckpointKeepsTheJournalShort(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "cy", "pw", "pw", "y")
	sizes := []int{}
	for range 5 {
		converse(tbl, rec, "1", "5") // who's online, back at the main menu
		j, _, _ := b.db.LoadJournal(context.Background(), "1")
		sizes = append(sizes, len(j))
	}
	for _, n := range sizes {
		if n != sizes[0] || n > 4 {
			t.Fatalf("journal entries after each trip to the menu: %v; want the same small number each time", sizes)
		}
	}
	crash(tbl)
	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
}

func TestEditedScriptDivergesToTheMainMenu(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "dee", "pw", "pw", "y", "1", "draft")
	crash(tbl)
	// The sysop changes what "leave a message" asks for.
	path := filepath.Join(b.scripts, "bbs.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "function leave_message(conn, req, user)",
		"function leave_message(conn, req, user)\n    req = ui.ask(conn, req, 'Subject?')", 1)
	if edited == string(src) {
		t.Fatal("leave_message not found in bbs.lua")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", "more draft")
	expect(t, got,
		"1 screen:The board was upgraded while you were online: back to the main menu you go.",
		"1 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Diverged != 1 {
		t.Errorf("journal stats %+v, want one divergence", st)
	}
	// Dee is logged in on the new code: the reader works and she can quit.
	expect(t, converse(tbl2, rec2, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
	if msgs := posts(t, b.db); len(msgs) != 0 {
		t.Errorf("the unfinished draft was posted: %+v", msgs)
	}
}

func TestDivergenceBeforeLoginStartsTheCallAgain(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "eve")
	crash(tbl)
	path := filepath.Join(b.scripts, "bbs.lua")
	src, _ := os.ReadFile(path)
	edited := strings.Replace(string(src), "req = ui.secret(conn, req, 'password')", "req = ui.ask(conn, req, 'Passphrase?')", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", "pw")
	expect(t, got,
		"1 screen:The board was upgraded while you were online: back to the main menu you go.",
		"1 prompt:           ____  _     _         ")
}

func TestNewCallOnAnOldConnIDStartsAfresh(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "fay", "pw", "pw", "y")
	crash(tbl)
	// The front end restarted too and gave conn id 1 to a new caller.
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", "connect")
	expect(t, got, "1 prompt:           ____  _     _         ")
	if st := tbl2.JournalStats(); st.Replayed != 0 {
		t.Errorf("a new call was replayed: %+v", st)
	}
}

// posts returns every post on the default board.
func posts(t *testing.T, db *store.SQLite) []store.Message {
	t.Helper()
	ctx := context.Background()
	n, err := db.MessageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.Message, 0, n)
	for i := range n {
		m, err := db.MessageAt(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestHostDiesAfterAWriteBeforeItsReplies(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "gil", "pw", "pw", "y", "1", "one line")
	tbl.Handle(msg("1", "."))
	tbl.Commit()
	// The host died right after the group commit that stored the post's
	// entry, before its replies ("Message posted", the menu) left it.
	crash(tbl)
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", "")
	expect(t, got,
		"1 screen:That's not on the menu. Pick 1-4 or Q.", // their Enter, at the menu
		"1 prompt:---(((MAIN MENU)))---")
	if n := len(posts(t, b.db)); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
	if st := tbl2.JournalStats(); st.Diverged != 0 || st.Replayed != 1 {
		t.Errorf("journal stats %+v, want a clean replay", st)
	}
}

func TestHostDiesBeforeAWriteIsJournaled(t *testing.T) {
	b := newJournaledBoard(t)
	b.snaps = &snapshotStore{SQLite: b.db}
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "hal", "pw", "pw", "y", "1", "one line", ".")
	crash(tbl)
	// The host died after the post was stored, with the journal up to it
	// (its rider), but before its own entry was: the replay cannot tell
	// whether it happened, so it is not done again; the caller lands at
	// the main menu.
	b.snaps.restore(t, func(e journal.Entry) bool { return e.Kind == journal.KindRequest })
	tbl2, rec2 := b.table(t)
	got := converse(tbl2, rec2, "1", ".")
	expect(t, got,
		"1 screen:The board was upgraded while you were online: back to the main menu you go.",
		"1 prompt:---(((MAIN MENU)))---")
	if n := len(posts(t, b.db)); n != 1 {
		t.Errorf("%d posts, want the one the dead host stored", n)
	}
}

func TestTwoHostsOneCaller(t *testing.T) {
	b := newJournaledBoard(t)
	a, recA := b.table(t)
	converse(a, recA, "1", "connect", "ida", "pw", "pw", "y")
	// The caller's messages go to host B now (a drain, a restart that
	// left A running): B rebuilds the session and serves it.
	bTbl, recB := b.table(t)
	expect(t, converse(bTbl, recB, "1", "5"), "1 screen:Online now:", "1 prompt:---(((MAIN MENU)))---")
	// A stray message still reaching A finds the journal moved on: A lets
	// go without a word and leaves B's journal alone.
	if got := converse(a, recA, "1", "7"); len(got) != 0 {
		t.Errorf("host A answered: %q", got)
	}
	if a.Has("1") {
		t.Error("host A kept the session")
	}
	expect(t, converse(bTbl, recB, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
}

func TestExampleEntryConventionDiverges(t *testing.T) {
	b := newJournaledBoard(t)
	src := `require 'ui'
function m2bbs(conn)
    local req = coroutine.yield()
    req = ui.ask(conn, req, 'name?')
    req = ui.ask(conn, req, 'colour?')
    ui.exit(conn, req, 'bye')
end`
	main := filepath.Join(b.scripts, "bbs.lua")
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "jo")
	crash(tbl)
	if err := os.WriteFile(main, []byte(strings.Replace(src, "'colour?'", "'favourite colour?'", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "1", "blue"),
		"1 screen:The board was upgraded while you were online: back to the main menu you go.",
		"1 prompt:name?")
}

func TestUnreadableJournalEndsTheCallPlainly(t *testing.T) {
	b := newJournaledBoard(t)
	if err := b.db.ResetJournal(context.Background(), "1", -1, [][]byte{(&journal.Entry{Kind: journal.KindStart, Request: journal.Request{Data: []byte("garbage")}}).Append(nil)}); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	got := converse(tbl, rec, "1", "hello?")
	if len(got) != 2 || !strings.HasPrefix(got[0], "1 exit:") || got[1] != "1 hangup" {
		t.Errorf("caller with a broken journal got %q, want the error screen and a hang-up", got)
	}
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
		t.Errorf("the broken journal was kept: %d entries", len(j))
	}
}

func TestLiveTailOfAReplayIsJournaled(t *testing.T) {
	b := newJournaledBoard(t)
	b.snaps = &snapshotStore{SQLite: b.db}
	tbl, rec := b.table(t)
	// Mail, whose reader has no checkpoint between its prompts.
	converse(tbl, rec, "1", "connect", "kim", "pw", "pw", "y")
	converse(tbl, rec, "1", "3", "kim", "note one", ".", "3", "kim", "note two", ".", "4")
	crash(tbl)
	// The host died right after marking the first note read and storing
	// its entry, before the prompt that shows it: a journal that ends
	// right after a write, which a host that stored each write's entry
	// at once could leave.
	endAfterLastWrite(t, b.db, "db.read_inbox")
	tbl2, rec2 := b.table(t)
	handle(tbl2, msg("1", ""))
	got := rec2.take()
	if len(got) != 2 || !strings.Contains(got[0], "note one") || !strings.Contains(got[1], "note two") {
		t.Fatalf("after the replay the caller saw %q, want the note they missed, then the next", got)
	}
	// Another host now: the journal written past the replay replays too.
	crash(tbl2)
	tbl3, rec3 := b.table(t)
	expect(t, converse(tbl3, rec3, "1", ""), "1 prompt:---(((MAIN MENU)))---")
	if st := tbl3.JournalStats(); st.Diverged != 0 || st.Replayed != 1 {
		t.Errorf("third host: %+v, want a clean replay", st)
	}
}

func TestCommitHoldsRepliesUntilTheJournalIsStored(t *testing.T) {
	b := newJournaledBoard(t)
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true,
	}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("replies left before the commit: %q", got)
	}
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
		t.Fatalf("journal stored before the commit: %d entries", len(j))
	}
	before := tbl.JournalStats().EntriesWritten
	tbl.Commit()
	if got := rec.take(); len(got) != 2 {
		t.Fatalf("after the commit: %q, want both callers' first prompt", got)
	}
	for _, id := range []string{"1", "2"} {
		// The start, db.remote_caller's answer (nil: not another board's
		// caller), db.preauthenticated's (nil: no SSH key login) and the
		// prompt.
		if j, _, _ := b.db.LoadJournal(context.Background(), id); len(j) != 4 {
			t.Errorf("journal %s holds %d entries after the commit, want the start, db.remote_caller, db.preauthenticated and the prompt", id, len(j))
		}
	}
	if n := tbl.JournalStats().EntriesWritten - before; n != 8 {
		t.Errorf("%d entries written, want 8", n)
	}
}

// endAfterLastWrite cuts conn 1's stored journal right after its last
// entry for the call name.
func endAfterLastWrite(t *testing.T, db *store.SQLite, name string) {
	t.Helper()
	ctx := context.Background()
	entries, _, err := db.LoadJournal(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e, err := journal.Parse(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == journal.KindCall && e.Name == name {
			if err := db.ResetJournal(ctx, "1", -1, entries[:i+1]); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no %s in the journal", name)
}

// TestReplayNeverRunsTheWriteAJournalWasStoredFor: two writes in a row;
// the host died after the second one's COMMIT, which stored the journal up
// to it (a rider): the journal ends right after the first write's entry.
// The replay answers the first from the journal and diverges at the
// second instead of running it again.
func TestReplayNeverRunsTheWriteAJournalWasStoredFor(t *testing.T) {
	b := scriptBoard(t, `    db.post_message('zed', {'first'})
    db.post_message('zed', {'second'})`)
	got, dead, next := replayAfterCrash(t, b, endsAtAPost)
	expect(t, got, upgradedToTheTop...)
	checkPostCount(t, b, 2, "the 2 the dead host made")
	if dead.Riders != 2 || dead.Flushes != 0 {
		t.Errorf("journal stats %+v, want both posts' journals carried by the posts (2 riders, no flush)", dead)
	}
	if next.Diverged != 1 {
		t.Errorf("journal stats %+v, want the replay diverged", next)
	}
}
