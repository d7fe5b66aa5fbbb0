package session

import (
	"context"
	"strings"
	"testing"
)

// TestJournalStatsCountWhatTheStoreDoes: the counters the status page and
// the bench read say how many prompts were journaled and how many journal
// writes and transactions the store got for them: a group commit for the
// callers served together, and a post (a write) that carries the journal
// up to it in its own transaction (a rider), its own entry joining the
// group commit.
func TestJournalStatsCountWhatTheStoreDoes(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	tbl.Commit()
	rec.take()
	st := tbl.JournalStats()
	if st.Prompts != 2 || st.Transactions != 1 || st.Writes != 2 || st.Flushes != 0 {
		t.Errorf("two callers' first prompts: %+v, want 2 prompts in one transaction of 2 writes", st)
	}
	converse(tbl, rec, "1", "ann", "pw", "pw", "y", "1", "one line")
	before := tbl.JournalStats()
	got := converse(tbl, rec, "1", ".")
	if len(got) == 0 || !strings.Contains(got[0], "Message posted") {
		t.Fatalf("the post: %q", got)
	}
	after := tbl.JournalStats()
	d := func(a, b int64) int64 { return a - b }
	if d(after.Prompts, before.Prompts) != 1 || d(after.Flushes, before.Flushes) != 0 || d(after.Riders, before.Riders) != 1 ||
		d(after.Transactions, before.Transactions) != 1 || d(after.Writes, before.Writes) != 2 {
		t.Errorf("the post: prompts %d, flushes %d, riders %d, transactions %d, writes %d; want 1 prompt, the journal up to the write in the write's transaction (1 rider, no flush), then the group commit: 1 transaction, 2 writes",
			d(after.Prompts, before.Prompts), d(after.Flushes, before.Flushes), d(after.Riders, before.Riders), d(after.Transactions, before.Transactions), d(after.Writes, before.Writes))
	}
	if j, _, err := b.db.LoadJournal(context.Background(), "1"); err != nil || len(j) == 0 {
		t.Errorf("journal after the post: %d entries, %v", len(j), err)
	}
}
