package session

import (
	"strconv"
	"testing"
	"time"
)

// sleepyBenchBoard is the shipped board, journaled, on a fake clock, with
// the sysop (the first user) registered and waiting at the main menu.
func sleepyBenchBoard(b *testing.B) (*Table, *recorder, *fakeClock) {
	b.Helper()
	jb := newJournaledBoardTB(b)
	tbl, rec := jb.tableTB(b, true)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	tbl.now = clock.Now
	converse(tbl, rec, "sysop", "connect", "sysop", "pw", "pw", "y")
	return tbl, rec, clock
}

// toMainMenu registers n callers, left waiting at the main menu.
func toMainMenu(tbl *Table, rec *recorder, n int) {
	for i := range n {
		id := strconv.Itoa(i)
		converse(tbl, rec, id, "connect", "caller"+id, "pw", "pw", "y")
	}
	rec.take()
}

// BenchmarkHibernatedSession: the live heap a caller parked at the
// shipped board's main menu keeps awake and hibernated (B/awake,
// B/asleep; 2,000 callers, after GC).
func BenchmarkHibernatedSession(b *testing.B) {
	const callers = 2000
	for b.Loop() {
		b.StopTimer()
		tbl, rec, clock := sleepyBenchBoard(b)
		base := heapAfterGC()
		toMainMenu(tbl, rec, callers)
		awake := heapAfterGC()
		clock.Advance(time.Minute)
		b.StartTimer()
		if n := tbl.Hibernate(); n != callers+1 {
			b.Fatalf("%d of %d callers hibernated", n, callers+1)
		}
		b.StopTimer()
		asleep := heapAfterGC()
		b.ReportMetric(float64(int64(awake)-int64(base))/callers, "B/awake")
		b.ReportMetric(float64(int64(asleep)-int64(base))/callers, "B/asleep")
		b.StartTimer() // the table closes with the benchmark
	}
}

// BenchmarkWake: a hibernated caller at the main menu types a line the
// menu does not know (its error screen, the menu again): the session is
// rebuilt by replay, handled, and hibernated again. ns/op and cpu-ns/wake
// are one wake-up and its line; compare BenchmarkJournaling's prompt.
func BenchmarkWake(b *testing.B) {
	tbl, rec, clock := sleepyBenchBoard(b)
	toMainMenu(tbl, rec, 1)
	clock.Advance(time.Minute)
	tbl.Hibernate()
	cpu := processCPU(b)
	n := 0
	for b.Loop() {
		handle(tbl, msg("0", "x"))
		clock.Advance(time.Minute)
		if tbl.Hibernate() != 1 { // the sysop sleeps on
			b.Fatalf("the woken caller did not hibernate again (%d entries)", tbl.sessions["0"].journal.entries)
		}
		rec.take()
		n++
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(n), "cpu-ns/wake")
	if st := tbl.Stats(); st.Woken != int64(n) {
		b.Fatalf("%d wake-ups for %d lines", st.Woken, n)
	}
}
