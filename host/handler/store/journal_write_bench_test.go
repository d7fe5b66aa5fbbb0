package store

import (
	"bytes"
	"context"
	"fmt"
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
