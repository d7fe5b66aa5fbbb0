package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWriteJournals is one group commit of a worker that served
// n callers since the last one (n = 1 when the worker keeps up): each
// caller's prompt adds two entries of about 85 bytes (the request and a
// call's result, as BenchmarkJournaling's visit does) to a journal of
// its own, in one WriteJournals. With journals=1000 the board holds a
// thousand journals of twenty rows each, as at make bench's 1,000
// callers, and each commit appends to the next of them in turn. Report:
// ns/op per commit; cpu-ns/op, the process's CPU time per commit (user
// and system, all threads: steadier than ns/op on a shared machine).
func BenchmarkWriteJournals(b *testing.B) {
	for _, c := range []struct{ callers, journals int }{{1, 0}, {8, 0}, {1, 1000}} {
		name := fmt.Sprintf("callers=%d", c.callers)
		if c.journals > 0 {
			name += fmt.Sprintf(",journals=%d", c.journals)
		}
		b.Run(name, func(b *testing.B) {
			s, _ := newStore(b)
			entry := bytes.Repeat([]byte{'x'}, 85)
			journals, rows := c.callers, 1
			if c.journals > 0 {
				journals, rows = c.journals, 20
			}
			counts := startJournals(b, s, journals, rows, entry)
			writes := make([]JournalWrite, c.callers)
			next := 0
			cpu := processCPU(b)
			b.ReportAllocs()
			for b.Loop() {
				for i := range writes {
					id := (next + i) % journals
					writes[i] = JournalWrite{ConnID: fmt.Sprint(id + 1), Count: counts[id], Entries: [][]byte{entry, entry}}
				}
				mustWriteJournals(b, s, writes)
				for i := range writes {
					counts[(next+i)%journals] += 2
				}
				if c.journals > 0 {
					next = (next + c.callers) % journals
				}
			}
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// startJournals starts n journals (conn ids "1" to n) of one entry and
// appends rows-1 rows of two entries to each, a hundred journals a
// commit; it returns their counts, by index.
func startJournals(b *testing.B, s *SQLite, n, rows int, entry []byte) []int {
	b.Helper()
	counts := make([]int, n)
	for round := range rows {
		for from := 0; from < n; from += 100 {
			var writes []JournalWrite
			for id := from; id < min(from+100, n); id++ {
				w := JournalWrite{ConnID: fmt.Sprint(id + 1), Count: counts[id], Entries: [][]byte{entry, entry}}
				if round == 0 {
					w = JournalWrite{ConnID: w.ConnID, Count: -1, Reset: true, Entries: [][]byte{entry}}
				}
				writes = append(writes, w)
			}
			mustWriteJournals(b, s, writes)
			for i, w := range writes {
				counts[from+i] += len(w.Entries)
			}
		}
	}
	return counts
}

// mustWriteJournals stores writes in one WriteJournals and fails b if any
// of them is not stored.
func mustWriteJournals(b *testing.B, s *SQLite, writes []JournalWrite) {
	b.Helper()
	errs, err := s.WriteJournals(context.Background(), writes)
	if err != nil {
		b.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the CPU time the process has used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCommitLatency is the wall time of the group commits of two
// workers under a steady load: each commits batches of four callers'
// prompts (two 85-byte entries each, as BenchmarkWriteJournals), one
// batch a millisecond, while a reader reads. checkpoints=sqlite leaves
// the checkpoints to SQLite, in the commit that takes the log past 1,000
// frames (as before the checkpointer); checkpoints=off-path runs them on
// the checkpointer (sqlite_checkpoint.go). Report: p50-ms, p99-ms and
// max-ms of one commit's wall time; cpu-ns/op, the process's CPU per
// commit.
func BenchmarkCommitLatency(b *testing.B) {
	for _, mode := range []struct {
		name  string
		every time.Duration
	}{{"sqlite", -1}, {"off-path", 0}} {
		b.Run("checkpoints="+mode.name, func(b *testing.B) {
			opts := testOptions
			opts.checkpointEvery = mode.every
			s := openAt(b, filepath.Join(b.TempDir(), "bbs.db"), opts)
			ctx := context.Background()
			entry := bytes.Repeat([]byte{'x'}, 85)
			const workers, batch = 2, 4
			writes := make([][]JournalWrite, workers)
			for w := range writes {
				writes[w] = make([]JournalWrite, batch)
				for i := range writes[w] {
					id := fmt.Sprintf("%d-%d", w, i)
					if err := s.ResetJournal(ctx, id, -1, [][]byte{entry}); err != nil {
						b.Fatal(err)
					}
					writes[w][i] = JournalWrite{ConnID: id, Count: 1, Entries: [][]byte{entry, entry}}
				}
			}
			stop := make(chan struct{})
			var readers sync.WaitGroup
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Microsecond):
					}
					if _, _, err := s.LoadJournal(ctx, "0-0"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			times := make([][]time.Duration, workers)
			var wg sync.WaitGroup
			cpu := processCPU(b)
			b.ResetTimer()
			for w := range workers {
				wg.Go(func() {
					for range b.N / workers {
						start := time.Now()
						errs, err := s.WriteJournals(ctx, writes[w])
						times[w] = append(times[w], time.Since(start))
						if err != nil {
							b.Error(err)
							return
						}
						for i, err := range errs {
							if err != nil {
								b.Error(err)
								return
							}
							writes[w][i].Count += 2
						}
						time.Sleep(time.Millisecond)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(stop)
			readers.Wait()
			all := slices.Concat(times...)
			slices.Sort(all)
			if len(all) == 0 {
				return
			}
			at := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))]) / 1e6 }
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
			b.ReportMetric(at(1), "max-ms")
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(len(all)), "cpu-ns/op")
		})
	}
}
