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
// its own, in one WriteJournals. Report: ns/op per commit; cpu-ns/op,
// the process's CPU time per commit (user and system, all threads:
// steadier than ns/op on a shared machine).
func BenchmarkWriteJournals(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			s, _ := newStore(b)
			ctx := context.Background()
			entry := bytes.Repeat([]byte{'x'}, 85)
			writes := make([]JournalWrite, n)
			for i := range writes {
				writes[i] = JournalWrite{ConnID: fmt.Sprint(i + 1), Count: -1, Reset: true, Entries: [][]byte{entry}}
			}
			if _, err := s.WriteJournals(ctx, writes); err != nil {
				b.Fatal(err)
			}
			for i := range writes {
				writes[i] = JournalWrite{ConnID: writes[i].ConnID, Count: 1, Entries: [][]byte{entry, entry}}
			}
			b.ReportAllocs()
			cpu := processCPU(b)
			for b.Loop() {
				errs, err := s.WriteJournals(ctx, writes)
				if err != nil {
					b.Fatal(err)
				}
				for i, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
					writes[i].Count += 2
				}
			}
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
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
