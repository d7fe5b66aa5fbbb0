package session

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// BenchmarkJournalLength is one journaled prompt round trip (the caller's
// line handled, its entries stored by the group commit, the reply sent)
// for a caller whose journal already holds n entries: the caller answers
// the menu of testdata/bench_menu.lua, which never checkpoints (as the
// original scripts don't). A journal write should cost the same at any n.
// Every max(5, n/100) prompts the journal is put back to n entries, the
// session rebuilt from it and one prompt answered, with the timer stopped
// (the first prompt of a rebuilt session costs more), so it holds n to about
// n+2% entries while timed, and the write-ahead log checkpointed. Report:
// ns/op per prompt; cpu-ns/op, the process's CPU time per prompt (user and
// system, all threads: steadier than ns/op on a shared machine);
// stored-entries, the journal's length at the end.
func BenchmarkJournalLength(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchJournalLength(b, n) })
	}
}

func benchJournalLength(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
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
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
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
		// The pages written here leave the write-ahead log, which starts
		// over (kept at its size, as SQLite's own checkpoints keep it), so
		// that the timed prompts pay for the checkpoints of their own
		// writes only.
		if _, err := raw.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)"); err != nil {
			b.Fatal(err)
		}
	}
	restore()
	req := msg(id, "1")
	every, since := max(5, n/100), 0
	var untimed time.Duration // CPU time of the restores
	cpu := processCPU(b)
	b.ReportAllocs()
	for b.Loop() {
		if since == every {
			b.StopTimer()
			began := processCPU(b)
			restore()
			handle(tbl, req) // the first prompt of a rebuilt session costs more
			untimed += processCPU(b) - began
			since = 0
			b.StartTimer()
		}
		handle(tbl, req)
		since++
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu-untimed).Nanoseconds())/float64(b.N), "cpu-ns/op")
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

// processCPU is the CPU time the process has used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
