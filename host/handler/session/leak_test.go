package session

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestNoLeakAfterTenThousandSessions runs sessions through every way a
// session ends — the script returns, it fails, the caller hangs up, it is
// reaped — and checks that nothing stays behind.
func TestNoLeakAfterTenThousandSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10,000 sessions")
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	// The resume budget is far above any pause of a loaded machine: a
	// session that overran it would be started again, and the count of
	// sessions started is what the test checks.
	tbl, rec := newLimitedTable(t, "testdata/failing.lua", Config{IdleTimeout: time.Minute, ResumeBudget: time.Minute}, clock)
	run := func(n int) {
		for i := range n {
			id := fmt.Sprint(i)
			tbl.Handle(msg(id, "connect"))
			tbl.Handle(msg(id, "some input to keep"))
			switch i % 5 {
			case 0:
				tbl.Handle(msg(id, "crash")) // script error
			case 1:
				tbl.Handle(jsonReq(id, `{"type":"disconnect"}`))
			case 2:
				tbl.Kick(id)
			case 3:
				clock.Advance(2 * time.Minute)
				tbl.ReapIdle()
			case 4:
				tbl.Handle(msg(id, "bye")) // the script returns
			}
			rec.replies = rec.replies[:0]
		}
	}
	run(1000) // warm up: the state's own tables and caches reach their size
	before := heapAfterGC()
	run(10000)
	after := heapAfterGC()
	if tbl.Len() != 0 || len(tbl.byThread) != 0 {
		t.Fatalf("%d sessions (%d threads) left in the table", tbl.Len(), len(tbl.byThread))
	}
	st := tbl.Stats()
	if st.Active != 0 || st.Started != 11000 {
		t.Errorf("stats = %+v", st)
	}
	// 10,000 suspended sessions would hold several MiB; a leak of even a
	// few hundred bytes each would show.
	const slack = 1 << 20
	if after > before+slack {
		t.Errorf("heap grew from %d to %d bytes over 10,000 finished sessions", before, after)
	}
	t.Logf("heap before %d, after %d bytes", before, after)
}
