package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestJournalAppendCheckedByTheTrigger: on SQLite an append is a plain
// INSERT that trigger journal_append_follows (migration 021) skips unless
// it follows the journal's count; a host of an earlier version, still
// appending with the INSERT ... SELECT that checks the count itself, gets
// the same answers on a migrated database (phone lines of two builds).
func TestJournalAppendCheckedByTheTrigger(t *testing.T) {
	s, _ := newStore(t)
	if s.pg != nil {
		t.Skip("the trigger is SQLite's; PostgreSQL checks in the INSERT")
	}
	ctx := context.Background()
	if err := s.ResetJournal(ctx, "5", -1, [][]byte{[]byte("start")}); err != nil {
		t.Fatal(err)
	}
	// An earlier build's append, by its own statement.
	oldAppend := func(count int, entry string) int64 {
		t.Helper()
		batch, err := packJournal("5", count, [][]byte{[]byte(entry)})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		err = s.with(func(p *pools) error {
			res, err := p.w.ExecContext(ctx, appendJournalSQL, count, 1, nowMillis(), batch, "5")
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := oldAppend(1, "old build"); n != 1 {
		t.Fatalf("an earlier build's append that follows the count wrote %d rows, want 1", n)
	}
	for _, count := range []int{0, 1, 3} { // behind, where the other build was, ahead
		if n := oldAppend(count, "stale"); n != 0 {
			t.Errorf("an earlier build's append at count %d wrote %d rows, want none", count, n)
		}
		if err := s.AppendJournal(ctx, "5", count, [][]byte{[]byte("stale")}); !errors.Is(err, ErrJournalConflict) {
			t.Errorf("append at count %d of a journal of 2: %v, want ErrJournalConflict", count, err)
		}
	}
	if err := s.AppendJournal(ctx, "5", 2, [][]byte{[]byte("new build")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendJournal(ctx, "6", 0, [][]byte{[]byte("no journal")}); !errors.Is(err, ErrJournalConflict) {
		t.Errorf("append to a journal that is not there: %v, want ErrJournalConflict", err)
	}
	got, count, err := s.LoadJournal(ctx, "5")
	if err != nil || count != 3 {
		t.Fatalf("LoadJournal: count %d, %v; want 3", count, err)
	}
	if want := [][]byte{[]byte("start"), []byte("old build"), []byte("new build")}; !reflect.DeepEqual(got, want) {
		t.Errorf("journal = %q, want %q", got, want)
	}
}
