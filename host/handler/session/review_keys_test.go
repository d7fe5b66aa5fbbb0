package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"log/slog"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Regression tests from the hostile review of keystroke mode (commit
// 3675614, /work/notes/reports/review_keys.md): each test is named and
// documented after the defect it found; they pass since the fixes.

// secretThenKeys asks a password with ui.secret, then goes straight into
// keystroke mode (a door that asks its own password, then runs full
// screen): no prompt in between.
const secretThenKeys = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'hi')
    req = ui.secret(conn, req, 'password')` + keysLoop

// TestReviewKeysAfterSecretReplayPlaceholders: keys typed in keystroke
// mode right after a secret prompt are journaled as secret placeholders
// (PromptSecret is still true: a keys message does not reset it), so a
// restart replays "[secret ...]" strings into the editor instead of the
// keys the caller typed. Nothing detects it (no divergence).
func TestReviewKeysAfterSecretReplayPlaceholders(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(secretThenKeys), 0o644); err != nil {
		t.Fatal(err)
	}
	term := `{"ansi":true,"keys":true}`
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "connect", term)))
	handle(tbl, jsonReq("7", termLine("7", "go", term)))
	rec.take()
	handle(tbl, jsonReq("7", termLine("7", "s3cret", term)))
	expect(t, rec.take(), "7 keys:start")
	handle(tbl, jsonReq("7", keysReq("7", "a")))
	expect(t, rec.take(), "7 keys:[a]")
	handle(tbl, jsonReq("7", keysReq("7", "b")))
	expect(t, rec.take(), "7 keys:[ab]")
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, jsonReq("7", keysReq("7", "c")))
	got := rec2.take()
	if len(got) != 1 || got[0] != "7 keys:[abc]" {
		t.Errorf("after a restart the caller sees %q, want [\"7 keys:[abc]\"]", got)
	}
	if st := tbl2.JournalStats(); st.Diverged != 0 {
		t.Logf("diverged: %+v", st)
	}
}

// TestReviewBroadcastStrandsKeysMode: a sysop broadcast (or a time
// warning, t.tell) to a caller in keystroke mode is a screen: it ends the
// gateway's keystroke mode and clears the host's keysMode, while the
// script still waits inside ui.keys. Every keys request after it is
// dropped; the gateway has no prompt either (see the telnet probe), so
// the caller is stuck until the idle timeout.
func TestReviewBroadcastStrandsKeysMode(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	term := `{"ansi":true,"keys":true}`
	handle(tbl, jsonReq("7", termLine("7", "connect", term)))
	rec.take()
	handle(tbl, jsonReq("7", termLine("7", "go", term)))
	expect(t, rec.take(), "7 keys:start")
	handle(tbl, jsonReq("7", keysReq("7", "a")))
	expect(t, rec.take(), "7 keys:[a]")
	tbl.Broadcast("The board goes down in 5 minutes.")
	tbl.Commit()
	rec.take()
	handle(tbl, jsonReq("7", keysReq("7", "b")))
	if got := rec.take(); len(got) == 0 {
		t.Errorf("after a broadcast the caller's keys are dropped (keys_dropped=%d): the editor is dead", tbl.Stats().KeysDropped)
	}
}

// countingJournals counts LoadJournal calls.
type countingJournals struct {
	store.Store
	loads int
}

func (c *countingJournals) LoadJournal(ctx context.Context, connID string) ([][]byte, int, error) {
	c.loads++
	return c.Store.LoadJournal(ctx, connID)
}

// TestReviewSessionlessKeysFlood: keys requests from a conn id with no
// session pass admitKeys (no session, no rate), cost a journal read
// each, never start a session and are never cut off: no limit applies.
func TestReviewSessionlessKeysFlood(t *testing.T) {
	b := newJournaledBoard(t)
	cs := &countingJournals{Store: b.db}
	b.snaps = nil
	tbl, rec := newCountingTable(t, b, cs)
	const n = 5000
	began := time.Now()
	for range n {
		handle(tbl, jsonReq("9", keysReq("9", strings.Repeat("k", 1000))))
	}
	took := time.Since(began)
	t.Logf("%d sessionless keys requests: %d journal loads, %v (%v each), replies %d, sessions %d, keys_dropped %d",
		n, cs.loads, took, took/n, len(rec.take()), tbl.Len(), tbl.Stats().KeysDropped)
	if cs.loads == n {
		t.Errorf("every one of %d sessionless keys requests read the journal store; none was rate limited or cut off", n)
	}
}

// newCountingTable is journaledBoard.table with st as the store.
func newCountingTable(t *testing.T, b *journaledBoard, st store.Store) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"), Journal: true,
	}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   st,
		Log:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

// TestReviewKeysCallerStrandedAfterRestartWithoutJournal: a host restart
// with journals off (or a journal damaged, given up, or from another
// address) loses the session. A line from the caller would start a new
// call; a keys request is dropped unanswered, every time, so a caller
// whose gateway is in keystroke mode never hears from the board again
// (and, typing, never idles out at the gateway).
func TestReviewKeysCallerStrandedAfterRestartWithoutJournal(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.tableTB(t, false)
	term := `{"ansi":true,"keys":true}`
	handle(tbl, jsonReq("7", termLine("7", "connect", term)))
	handle(tbl, jsonReq("7", termLine("7", "go", term)))
	expect(t, rec.take(), "7 prompt:keys=true", "7 keys:start")
	crash(tbl)
	tbl2, rec2 := b.tableTB(t, false)
	for range 5 {
		handle(tbl2, jsonReq("7", keysReq("7", "a")))
	}
	if got := rec2.take(); len(got) == 0 {
		t.Errorf("5 keys requests after the restart: no answer at all (keys_dropped %d, sessions %d)", tbl2.Stats().KeysDropped, tbl2.Len())
	}
}
