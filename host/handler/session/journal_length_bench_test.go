package session

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// BenchmarkJournalLength is one journaled prompt round trip (the caller's
// line handled, its entries stored by the group commit, the reply sent)
// for a caller whose journal already holds n entries: the caller answers
// the menu of testdata/bench_menu.lua, which never checkpoints (as the
// original scripts don't). A journal write should cost the same at any n.
// Every max(5, n/100) prompts the journal is put back to n entries and the
// session rebuilt from it, with the timer stopped, so it holds n to about
// n+2% entries while timed. Report: ns/op per prompt; stored-entries, the
// journal's length at the end.
func BenchmarkJournalLength(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchJournalLength(b, n) })
	}
}

func benchJournalLength(b *testing.B, n int) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tbl, err := New(Config{
		ScriptsDir: "testdata", MainScript: "testdata/bench_menu.lua",
		RatePerSecond: 1e9, RateBurst: 1 << 30, Journal: true,
	}, Deps{Replier: discard{}, Screens: screenMap{}, Store: db, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tbl.Close)
	const id = "7"
	for _, line := range []string{"connect", "ann", "pw", "y", "1"} {
		handle(tbl, msg(id, line))
	}
	ctx := context.Background()
	full := journalOfLength(b, db, id, n)
	// restore puts the journal back to full, in batches as a session
	// would have written it, and rebuilds the session from it.
	restore := func() {
		tbl.Detach(id)
		const batch = 100
		if err := db.ResetJournal(ctx, id, -1, full[:min(batch, len(full))]); err != nil {
			b.Fatal(err)
		}
		for i := batch; i < len(full); i += batch {
			if err := db.AppendJournal(ctx, id, i, full[i:min(i+batch, len(full))]); err != nil {
				b.Fatal(err)
			}
		}
		if !tbl.Adopt(id, "") {
			b.Fatal("the session was not rebuilt from its journal")
		}
	}
	restore()
	req := msg(id, "1")
	every, since := max(5, n/100), 0
	b.ReportAllocs()
	for b.Loop() {
		if since == every {
			b.StopTimer()
			restore()
			since = 0
			b.StartTimer()
		}
		handle(tbl, req)
		since++
	}
	b.StopTimer()
	if !tbl.Has(id) {
		b.Fatal("the session ended")
	}
	_, count, err := db.LoadJournal(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(count), "stored-entries")
}

// journalOfLength is id's stored journal, which ends with a menu answer
// and the menu asked again, with that pair repeated until it holds n
// entries (or one more).
func journalOfLength(b *testing.B, db *store.SQLite, id string, n int) [][]byte {
	b.Helper()
	entries, _, err := db.LoadJournal(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	if len(entries) < 4 {
		b.Fatalf("journal of %d entries", len(entries))
	}
	pair := entries[len(entries)-2:]
	full := append([][]byte(nil), entries[:len(entries)-2]...)
	for len(full) < n {
		full = append(full, pair...)
	}
	return full
}
