package dispatch

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// peakHeap samples the heap every millisecond until stop is called, and
// returns the largest figure seen.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: heapMetric}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// runBomb starts a board with default settings whose script runs bomb
// when the caller answers, and returns what the caller saw (the error
// screen, or "survived") and the heap's peak meanwhile; the other caller
// is answered afterwards. bomb must end by itself past a gigabyte or so,
// so that a host whose limits fail fails the test without taking the
// machine's memory.
func runBomb(t *testing.T, bomb string) (seen string, peak uint64, b *board) {
	t.Helper()
	runtime.GC()
	b = startBoard(t, `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'go?')
    if req.data.msg == 'go' then
        `+bomb+`
        ui.display(conn, req, 'survived')
    end
    ui.ask(conn, req, 'go?')
end`, Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("2", "connect")
	b.ft.waitFor(t, "2", kind("prompt"))
	stop := peakHeap()
	b.say("1", "go")
	r := b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "exit" || r.kind == "screen" })
	peak = stop()
	t.Logf("heap peaked at %d MiB", peak>>20)
	b.say("2", "no") // the other caller is answered
	b.ft.waitFor(t, "2", kind("prompt"))
	runtime.GC()
	return r.text, peak, b
}

// TestStringDoublingIsStoppedAtOnce: s = s .. s in a loop used to reach
// gigabytes before the time budget stopped it (one `..` runs to its end
// once started, and the watchdog never fired with default settings). The
// bound on concatenation stops it at 1 MiB, long before the heap limit.
func TestStringDoublingIsStoppedAtOnce(t *testing.T) {
	seen, peak, _ := runBomb(t, `local s = 'x'
    while #s < 2^30 do s = s .. s end`)
	if seen != "Oops." {
		t.Errorf("the doubling caller saw %q, want the error screen", seen)
	}
	if peak > 64<<20 {
		t.Errorf("heap peaked at %d MiB, want at most 64 MiB", peak>>20)
	}
}

// TestMemoryWatchdogFiresWithDefaultSettings: a script that keeps ever
// more strings, none over the bound, is stopped by the memory watchdog
// (not the time budget) with the default limits, within twice the limit.
func TestMemoryWatchdogFiresWithDefaultSettings(t *testing.T) {
	seen, peak, b := runBomb(t, `local t, chunk = {}, string.rep('x', 1024 * 1024 - 8)
    while #t < 1200 do t[#t + 1] = chunk .. #t end`)
	if seen != "Oops." {
		t.Errorf("the hoarding caller saw %q, want the error screen", seen)
	}
	if limit := uint64(2 * DefaultMemoryLimit); peak > limit {
		t.Errorf("heap peaked at %d MiB, want at most %d MiB", peak>>20, limit>>20)
	}
	if st := b.host.Status(); st.MemoryAborts < 1 {
		t.Errorf("memory aborts = %d: the watchdog did not fire", st.MemoryAborts)
	}
}

// TestMemoryWatchdogStopsAStringBomb: a script that keeps ever more
// strings (a megabyte a step: no one string passes the bound on strings)
// is stopped when the heap passes the limit.
func TestMemoryWatchdogStopsAStringBomb(t *testing.T) {
	b := startBoard(t, `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'go?')
    if req.data.msg == 'go' then
        local t, chunk = {}, string.rep('x', 1024 * 1024 - 8)
        while #t < 1200 do t[#t + 1] = chunk .. #t end
    end
    ui.ask(conn, req, 'fine')
end`, Config{MemoryLimit: 64 << 20, Session: session.Config{ResumeBudget: time.Minute}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("2", "connect")
	b.ft.waitFor(t, "2", kind("prompt"))
	b.say("1", "go")
	if r := b.ft.waitFor(t, "1", kind("exit")); r.text != "Oops." {
		t.Errorf("exit = %q", r.text)
	}
	b.say("2", "no")
	b.ft.waitFor(t, "2", kind("prompt"))
	if st := b.host.Status(); st.MemoryAborts < 1 || st.Sessions.Errored != 1 {
		t.Errorf("status = %+v", st)
	}
}
