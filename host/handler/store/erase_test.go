package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDroppedJournalsLeaveNoCopy: a journal that was dropped, once the
// periodic prune has run, is neither in the database file (its free pages
// are zeroed) nor in the write-ahead log (checkpointed and truncated).
func TestDroppedJournalsLeaveNoCopy(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	const marker = "what-the-caller-typed-0xC0FFEE"
	var entries [][]byte
	for i := range 40 {
		entries = append(entries, []byte(strings.Repeat(marker, 20)+string(rune('a'+i%26))))
	}
	if err := s.ResetJournal(ctx, "1", -1, entries); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetJournal(ctx, "2", -1, [][]byte{[]byte("kept")}); err != nil {
		t.Fatal(err)
	}
	// The journal reaches the database file before it is dropped.
	if _, err := s.PruneJournals(ctx, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.DropJournal(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneJournals(ctx, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(marker)) {
			t.Errorf("the dropped journal is still in %s", filepath.Base(f))
		}
	}
	if got, _, err := s.LoadJournal(ctx, "2"); err != nil || len(got) != 1 {
		t.Errorf("the other journal: %q, %v", got, err)
	}
}

// TestPruneErasesTheWALWhileTheCheckpointerRuns: the host's own
// checkpointer (here every millisecond, so that the two meet often)
// never makes a prune that reports success leave a dropped journal in
// the write-ahead log.
func TestPruneErasesTheWALWhileTheCheckpointerRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	o := testOptions
	o.checkpointEvery = time.Millisecond
	s := openAt(t, path, o)
	ctx := context.Background()
	left := 0
	const rounds = 300
	for i := range rounds {
		marker := fmt.Sprintf("typed-by-caller-%04d-", i)
		var entries [][]byte
		for range 30 {
			entries = append(entries, []byte(strings.Repeat(marker, 300)))
		}
		if err := s.ResetJournal(ctx, "1", -1, entries); err != nil {
			t.Fatal(err)
		}
		if err := s.DropJournal(ctx, "1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PruneJournals(ctx, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path + "-wal")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(marker)) {
			left++
		}
	}
	if left > 0 {
		t.Errorf("after %d of %d prunes that reported success, the dropped journal was still in the write-ahead log", left, rounds)
	}
}
