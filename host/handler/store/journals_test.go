package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func TestJournalAppendLoadResetDrop(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if got, _, err := s.LoadJournal(ctx, "7"); err != nil || len(got) != 0 {
		t.Fatalf("empty journal: %q, %v", got, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.ResetJournal(ctx, "7", -1, [][]byte{[]byte("start"), []byte("call")}))
	must(s.AppendJournal(ctx, "7", 2, [][]byte{[]byte("req")}))
	must(s.ResetJournal(ctx, "8", -1, [][]byte{[]byte("other")}))
	if err := s.AppendJournal(ctx, "9", 0, [][]byte{[]byte("x")}); !errors.Is(err, ErrJournalConflict) {
		t.Fatalf("append to no journal: %v, want ErrJournalConflict", err)
	}
	got, count, err := s.LoadJournal(ctx, "7")
	must(err)
	if count != 3 {
		t.Fatalf("count %d, want 3", count)
	}
	if want := [][]byte{[]byte("start"), []byte("call"), []byte("req")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("journal 7 = %q, want %q", got, want)
	}

	// A second writer of the same entry number loses, and writes nothing.
	err = s.AppendJournal(ctx, "7", 2, [][]byte{[]byte("late"), []byte("later")})
	if !errors.Is(err, ErrJournalConflict) {
		t.Fatalf("conflicting append: %v, want ErrJournalConflict", err)
	}
	if got, _, _ := s.LoadJournal(ctx, "7"); len(got) != 3 {
		t.Fatalf("after a refused append the journal has %d entries, want 3", len(got))
	}

	if err := s.ResetJournal(ctx, "7", 2, [][]byte{[]byte("checkpoint")}); !errors.Is(err, ErrJournalConflict) {
		t.Fatalf("compacting a journal of 3 entries as one of 2: %v, want ErrJournalConflict", err)
	}
	must(s.ResetJournal(ctx, "7", 3, [][]byte{[]byte("checkpoint")}))
	if got, count, _ := s.LoadJournal(ctx, "7"); !reflect.DeepEqual(got, [][]byte{[]byte("checkpoint")}) || count != 4 {
		t.Fatalf("after compaction: %q, count %d; want the checkpoint alone, count 4", got, count)
	}
	// The count never goes back: a host still at count 1 cannot write.
	if err := s.AppendJournal(ctx, "7", 1, [][]byte{[]byte("stale")}); !errors.Is(err, ErrJournalConflict) {
		t.Fatalf("append at an old count: %v, want ErrJournalConflict", err)
	}
	must(s.AppendJournal(ctx, "7", 4, [][]byte{[]byte("req")}))

	must(s.DropJournal(ctx, "7"))
	if got, _, _ := s.LoadJournal(ctx, "7"); len(got) != 0 {
		t.Fatalf("after drop: %q", got)
	}
	if got, _, _ := s.LoadJournal(ctx, "8"); len(got) != 1 {
		t.Fatalf("dropping 7 touched 8: %q", got)
	}
}

func TestJournalLimitsAndPrune(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	big := []byte(strings.Repeat("x", MaxJournalEntryBytes+1))
	if err := s.ResetJournal(ctx, "1", -1, [][]byte{big}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized entry: %v, want ErrTooLarge", err)
	}
	if err := s.ResetJournal(ctx, "", -1, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("empty conn id accepted")
	}
	if err := s.ResetJournal(ctx, "1", -1, [][]byte{[]byte("a"), {}, []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneJournals(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("prune of fresh journals: %d, %v", n, err)
	}
	if got, _, _ := s.LoadJournal(ctx, "1"); len(got) != 3 || len(got[1]) != 0 || string(got[2]) != "c" {
		t.Fatalf("journal with an empty entry came back as %q", got)
	}
	if n, err := s.PruneJournals(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune of stale journals: %d, %v", n, err)
	}
	if got, _, _ := s.LoadJournal(ctx, "1"); len(got) != 0 {
		t.Fatalf("pruned journal still there: %q", got)
	}
}

func FuzzUnpackJournal(f *testing.F) {
	blob, _ := packJournal("1", 0, [][]byte{[]byte("S..."), {}, []byte("P[menu]")})
	f.Add(blob)
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := unpackJournal(b)
		if err != nil {
			return
		}
		packed, err := packJournal("1", 0, entries)
		if err != nil {
			t.Fatal(err)
		}
		again, err := unpackJournal(packed)
		if err != nil || len(again) != len(entries) {
			t.Fatalf("entries %q re-packed came back as %q (%v)", entries, again, err)
		}
		for i := range again {
			if string(again[i]) != string(entries[i]) {
				t.Fatalf("entry %d: %q came back as %q", i, entries[i], again[i])
			}
		}
	})
}

func TestWriteJournalsInOneTransaction(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.ResetJournal(ctx, "1", -1, [][]byte{[]byte("a")}); err != nil {
		t.Fatal(err)
	}
	errs, err := s.WriteJournals(ctx, []JournalWrite{
		{ConnID: "1", Count: 1, Entries: [][]byte{[]byte("b")}},                 // append
		{ConnID: "2", Reset: true, Count: -1, Entries: [][]byte{[]byte("x")}},   // start
		{ConnID: "1", Count: 1, Entries: [][]byte{[]byte("stale")}},             // lost: count is 2 now
		{ConnID: "3", Reset: true, Count: 5, Entries: [][]byte{[]byte("nope")}}, // lost: no journal
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrJournalConflict) || !errors.Is(errs[3], ErrJournalConflict) {
		t.Fatalf("errs = %v", errs)
	}
	got, count, _ := s.LoadJournal(ctx, "1")
	if !reflect.DeepEqual(got, [][]byte{[]byte("a"), []byte("b")}) || count != 2 {
		t.Errorf("journal 1 = %q (count %d)", got, count)
	}
	if got, _, _ := s.LoadJournal(ctx, "2"); len(got) != 1 {
		t.Errorf("journal 2 = %q", got)
	}
	if got, _, _ := s.LoadJournal(ctx, "3"); len(got) != 0 {
		t.Errorf("journal 3 = %q", got)
	}
}

func TestDropJournals(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, id := range []string{"1", "2", "3"} {
		if err := s.ResetJournal(ctx, id, -1, [][]byte{[]byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DropJournals(ctx, []string{"1", "3", "9"}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"1": 0, "2": 1, "3": 0} {
		if got, _, _ := s.LoadJournal(ctx, id); len(got) != want {
			t.Errorf("journal %s has %d entries, want %d", id, len(got), want)
		}
	}
}

// TestJournalAppendWritesOnlyWhatItAdds: appending to a long journal
// writes a few pages to the write-ahead log, not the journal again.
func TestJournalAppendWritesOnlyWhatItAdds(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	entry := []byte(strings.Repeat("e", 120))
	long := make([][]byte, 2000)
	for i := range long {
		long[i] = entry
	}
	if err := s.ResetJournal(ctx, "1", -1, long); err != nil {
		t.Fatal(err)
	}
	// Empties the write-ahead log (nothing is old enough to prune).
	if _, err := s.PruneJournals(ctx, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendJournal(ctx, "1", len(long), [][]byte{entry, entry}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// A WAL frame is a 24-byte header and a 4 KiB page; the journal is
	// 60 pages.
	if frames := (fi.Size() - 32) / (24 + 4096); frames > 6 {
		t.Errorf("an append of 2 entries to a journal of 2,000 wrote %d pages", frames)
	}
	got, count, err := s.LoadJournal(ctx, "1")
	if err != nil || count != 2002 || len(got) != 2002 {
		t.Fatalf("journal: %d entries, count %d, %v", len(got), count, err)
	}
}

// TestJournalsOfEarlierVersionsMigrate: a journal stored in one row, as
// migration 007 kept it, reads back the same after migration 010, and
// goes on growing and being compacted.
func TestJournalsOfEarlierVersionsMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bbs.db")
	fsys := fstest.MapFS{}
	for v := 1; v <= 9; v++ {
		names, err := fs.Glob(migrationFiles, fmt.Sprintf("migrations/%03d_*.sql", v))
		if err != nil || len(names) != 1 {
			t.Fatalf("migration %d: %v %v", v, names, err)
		}
		data, err := fs.ReadFile(migrationFiles, names[0])
		if err != nil {
			t.Fatal(err)
		}
		fsys[names[0]] = &fstest.MapFile{Data: data}
	}
	old, err := openWith(path, testOptions, fsys)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	legacy := [][]byte{[]byte("checkpoint"), {}, []byte("req")}
	blob, err := packJournal("7", 0, legacy)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	for _, row := range []struct {
		id    string
		blob  []byte
		count int
	}{{"7", blob, 12}, {"8", []byte{}, 0}} {
		if _, err := raw.Exec("INSERT INTO journals (conn_id, entries, count, written) VALUES (?, ?, ?, ?)",
			row.id, row.blob, row.count, time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, count, err := s.LoadJournal(ctx, "7")
	if err != nil || count != 12 || !reflect.DeepEqual(got, legacy) {
		t.Fatalf("migrated journal: %q, count %d, %v; want %q, count 12", got, count, err, legacy)
	}
	if got, count, err := s.LoadJournal(ctx, "8"); err != nil || count != 0 || len(got) != 0 {
		t.Fatalf("migrated empty journal: %q, count %d, %v", got, count, err)
	}
	if err := s.AppendJournal(ctx, "7", 12, [][]byte{[]byte("more")}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.LoadJournal(ctx, "7"); len(got) != 4 || string(got[3]) != "more" {
		t.Fatalf("after an append: %q", got)
	}
	if err := s.AppendJournal(ctx, "8", 0, [][]byte{[]byte("first")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetJournal(ctx, "7", 13, [][]byte{[]byte("checkpoint 2")}); err != nil {
		t.Fatal(err)
	}
	if got, count, _ := s.LoadJournal(ctx, "7"); !reflect.DeepEqual(got, [][]byte{[]byte("checkpoint 2")}) || count != 14 {
		t.Fatalf("after compaction: %q, count %d", got, count)
	}
	if n, err := s.PruneJournals(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	var left int
	if err := rawDB(t, path).QueryRow("SELECT count(*) FROM journal_entries").Scan(&left); err != nil || left != 0 {
		t.Fatalf("entries of pruned journals left: %d, %v", left, err)
	}
}

// TestWriteJournalsEmptyAppend: an append of no entries checks the count
// and changes nothing else.
func TestWriteJournalsEmptyAppend(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.ResetJournal(ctx, "1", -1, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	errs, err := s.WriteJournals(ctx, []JournalWrite{{ConnID: "1", Count: 2}, {ConnID: "1", Count: 1}, {ConnID: "2", Count: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.Is(errs[1], ErrJournalConflict) || !errors.Is(errs[2], ErrJournalConflict) {
		t.Fatalf("errs = %v", errs)
	}
	if got, count, err := s.LoadJournal(ctx, "1"); err != nil || count != 2 || len(got) != 2 {
		t.Fatalf("journal: %q, count %d, %v", got, count, err)
	}
	// Started over: the appended entries go too.
	if err := s.AppendJournal(ctx, "1", 2, [][]byte{[]byte("c")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetJournal(ctx, "1", -1, [][]byte{[]byte("new")}); err != nil {
		t.Fatal(err)
	}
	if got, count, err := s.LoadJournal(ctx, "1"); err != nil || count != 1 || !reflect.DeepEqual(got, [][]byte{[]byte("new")}) {
		t.Fatalf("journal started over: %q, count %d, %v", got, count, err)
	}
}

func TestWriteJournalsFailingHalfwayStoresNothing(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	for _, id := range []string{"1", "boom"} {
		if err := s.ResetJournal(ctx, id, -1, [][]byte{[]byte("a")}); err != nil {
			t.Fatal(err)
		}
	}
	// A fault in the batch's second statement (a trigger stands in for a
	// full disk or an I/O error).
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON journal_entries
		WHEN NEW.conn_id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	batch := []JournalWrite{
		{ConnID: "1", Count: 1, Entries: [][]byte{[]byte("b")}},
		{ConnID: "boom", Count: 1, Entries: [][]byte{[]byte("b")}},
	}
	if _, err := s.WriteJournals(ctx, batch); err == nil {
		t.Fatal("a batch with a failing write was stored")
	}
	if got, count, _ := s.LoadJournal(ctx, "1"); count != 1 || len(got) != 1 {
		t.Fatalf("journal 1 after the failed batch = %q (count %d), want its first entry only", got, count)
	}
	// The writer is out of the failed transaction: the next batch and the
	// next single write are stored.
	errs, err := s.WriteJournals(ctx, batch[:1])
	if err != nil || errs[0] != nil {
		t.Fatalf("write after the failed batch: %v %v", err, errs)
	}
	errs, err = s.WriteJournals(ctx, []JournalWrite{
		{ConnID: "1", Count: 2, Entries: [][]byte{[]byte("c")}},
		{ConnID: "2", Reset: true, Count: -1, Entries: [][]byte{[]byte("x")}},
	})
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("batch after the failed batch: %v %v", err, errs)
	}
	if got, count, _ := s.LoadJournal(ctx, "1"); count != 3 || string(got[2]) != "c" {
		t.Fatalf("journal 1 = %q (count %d)", got, count)
	}
}

// TestJournalConflictBetweenHosts: two hosts (two stores on one database)
// append to the same journal at the same count at once, many times over:
// each time exactly one append is stored and the other is told
// ErrJournalConflict, never a database error, and the journal holds the
// winners in order.
func TestJournalConflictBetweenHosts(t *testing.T) {
	target := testTarget(t)
	ctx := t.Context()
	var hosts [2]*SQLite
	for i := range hosts {
		s, err := Open(target, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		hosts[i] = s
	}
	if err := hosts[0].ResetJournal(ctx, "c1", -1, nil); err != nil {
		t.Fatal(err)
	}
	const rounds = 40
	var want []string
	for round := range rounds {
		var wg sync.WaitGroup
		var errs [2]error
		for i, s := range hosts {
			wg.Go(func() {
				errs[i] = s.AppendJournal(ctx, "c1", round, [][]byte{fmt.Appendf(nil, "r%d-h%d", round, i)})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Fatalf("round %d: both appends stored", round)
			case !errors.Is(err, ErrJournalConflict):
				t.Fatalf("round %d, host %d: %v; want nil or ErrJournalConflict", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither append stored: %v", round, errs)
		}
		want = append(want, fmt.Sprintf("r%d-h%d", round, won))
	}
	entries, count, err := hosts[1].LoadJournal(ctx, "c1")
	if err != nil || count != rounds {
		t.Fatalf("LoadJournal: count %d, %v; want %d", count, err, rounds)
	}
	var got []string
	for _, e := range entries {
		got = append(got, string(e))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("journal = %q; want %q", got, want)
	}
}
