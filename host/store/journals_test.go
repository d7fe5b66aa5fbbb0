package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJournalAppendLoadResetDrop(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if got, err := s.LoadJournal(ctx, "7"); err != nil || len(got) != 0 {
		t.Fatalf("empty journal: %q, %v", got, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AppendJournal(ctx, "7", 0, [][]byte{[]byte("start"), []byte("call")}))
	must(s.AppendJournal(ctx, "7", 2, [][]byte{[]byte("req")}))
	must(s.AppendJournal(ctx, "8", 0, [][]byte{[]byte("other")}))
	got, err := s.LoadJournal(ctx, "7")
	must(err)
	if want := [][]byte{[]byte("start"), []byte("call"), []byte("req")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("journal 7 = %q, want %q", got, want)
	}

	// A second writer of the same entry number loses, and writes nothing.
	err = s.AppendJournal(ctx, "7", 2, [][]byte{[]byte("late"), []byte("later")})
	if !errors.Is(err, ErrJournalConflict) {
		t.Fatalf("conflicting append: %v, want ErrJournalConflict", err)
	}
	if got, _ := s.LoadJournal(ctx, "7"); len(got) != 3 {
		t.Fatalf("after a refused append the journal has %d entries, want 3", len(got))
	}

	must(s.ResetJournal(ctx, "7", [][]byte{[]byte("checkpoint")}))
	if got, _ := s.LoadJournal(ctx, "7"); !reflect.DeepEqual(got, [][]byte{[]byte("checkpoint")}) {
		t.Fatalf("after reset: %q", got)
	}
	must(s.AppendJournal(ctx, "7", 1, [][]byte{[]byte("req")}))

	must(s.DropJournal(ctx, "7"))
	if got, _ := s.LoadJournal(ctx, "7"); len(got) != 0 {
		t.Fatalf("after drop: %q", got)
	}
	if got, _ := s.LoadJournal(ctx, "8"); len(got) != 1 {
		t.Fatalf("dropping 7 touched 8: %q", got)
	}
}

func TestJournalLimitsAndPrune(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	big := []byte(strings.Repeat("x", MaxJournalEntryBytes+1))
	if err := s.AppendJournal(ctx, "1", 0, [][]byte{big}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized entry: %v, want ErrTooLarge", err)
	}
	if err := s.AppendJournal(ctx, "", 0, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("empty conn id accepted")
	}
	if err := s.AppendJournal(ctx, "1", 0, [][]byte{[]byte("a")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneJournals(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("prune of fresh journals: %d, %v", n, err)
	}
	if n, err := s.PruneJournals(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune of stale journals: %d, %v", n, err)
	}
	if got, _ := s.LoadJournal(ctx, "1"); len(got) != 0 {
		t.Fatalf("pruned journal still there: %q", got)
	}
}
