package host

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
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

// TestStringDoublingIsStoppedWithDefaultSettings: s = s .. s in a loop
// grows the heap exponentially, faster than any time budget can see. With
// the default limits the memory watchdog (not the time budget) stops it
// while the heap is within a few times the limit, and the other callers go
// on. One concatenation runs to its end once started, so the heap can pass
// the limit by the last string built: 0.9-1.8 GiB measured with the
// 256 MiB default. (The script itself
// stops doubling at 1 GiB, so that a host whose watchdog does not fire
// fails this test without taking the machine's memory.)
func TestStringDoublingIsStoppedWithDefaultSettings(t *testing.T) {
	runtime.GC()
	b := startBoard(t, `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'go?')
    local s = 'x'
    while #s < 2^30 do s = s .. s end
    ui.display(conn, req, 'survived with ' .. #s .. ' bytes')
    ui.ask(conn, req, 'go?')
end`, Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("2", "connect")
	b.ft.waitFor(t, "2", kind("prompt"))
	stop := peakHeap()
	b.say("1", "go")
	r := b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "exit" || r.kind == "screen" })
	peak := stop()
	if r.text != "Oops." {
		t.Errorf("the doubling caller saw %s %q, want the error screen", r.kind, r.text)
	}
	if limit := uint64(8 * DefaultMemoryLimit); peak > limit {
		t.Errorf("heap peaked at %d MiB, want at most %d MiB", peak>>20, limit>>20)
	}
	t.Logf("heap peaked at %d MiB", peak>>20)
	b.say("2", "go")
	b.ft.waitFor(t, "2", kind("prompt"))
	if st := b.host.Status(); st.MemoryAborts < 1 {
		t.Errorf("memory aborts = %d", st.MemoryAborts)
	}
	runtime.GC()
}
