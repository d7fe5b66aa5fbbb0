package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/screens"
	"github.com/m2bbs/m2bbs/host/store"
)

// journaledBoard is a host's worth of state that outlives its tables: the
// database and the scripts folder (a copy of scripts/, so a test can edit
// it). Each call to table is a host started afresh on them.
type journaledBoard struct {
	db      *store.SQLite
	scripts string
	logs    strings.Builder
}

func newJournaledBoard(t *testing.T) *journaledBoard { return newJournaledBoardTB(t) }

func newJournaledBoardTB(t testing.TB) *journaledBoard {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scripts := t.TempDir()
	if err := os.CopyFS(scripts, os.DirFS("../../scripts")); err != nil {
		t.Fatal(err)
	}
	return &journaledBoard{db: db, scripts: scripts}
}

// table starts a host's session table on the board.
func (b *journaledBoard) table(t *testing.T) (*Table, *recorder) { return b.tableTB(t, true) }

func (b *journaledBoard) tableTB(t testing.TB, journaled bool) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: journaled,
	}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../screens"),
		Store:   b.db,
		Log:     slog.New(slog.NewTextHandler(&b.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
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
	if j, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
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
		j, _ := b.db.LoadJournal(context.Background(), "1")
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
