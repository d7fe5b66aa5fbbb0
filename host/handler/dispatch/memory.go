package dispatch

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"
)

// heapMetric is the runtime metric of the heap's objects, live or not yet
// collected.
const heapMetric = "/memory/classes/heap/objects:bytes"

// memoryCheckInterval is how often the heap is measured.
const memoryCheckInterval = 5 * time.Millisecond

// watchMemory stops the scripts running while the heap is over the limit:
// a script building an enormous string ends its own session, not the host.
//
// The heap counts garbage too, so past the limit a collection is started
// before a script is blamed, and the script is stopped if the heap is still
// over the limit once it is done. The watchdog never waits for that
// collection: a collection can take seconds while a script copies huge
// strings, and a script that doubles a string at every step would grow the
// heap many times over meanwhile. The heap is still measured meanwhile, and
// past twice the limit the running scripts are stopped at once.
func (h *Host) watchMemory(ctx context.Context) {
	sample := []metrics.Sample{{Name: heapMetric}}
	ticker := time.NewTicker(memoryCheckInterval)
	defer ticker.Stop()
	var collected chan struct{} // non-nil while a collection runs
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-collected:
			collected = nil
			if heap := readHeap(sample); heap >= h.cfg.MemoryLimit {
				h.abortScripts(heap)
			}
			continue
		}
		heap := readHeap(sample)
		switch {
		case heap < h.cfg.MemoryLimit:
		case heap >= 2*h.cfg.MemoryLimit:
			h.abortScripts(heap)
		case collected == nil:
			collected = make(chan struct{})
			go func(done chan struct{}) {
				runtime.GC()
				close(done)
			}(collected)
		}
	}
}

// readHeap is the heap's size in bytes (0 if the runtime cannot tell).
func readHeap(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// abortScripts stops the script running on every worker, if any.
func (h *Host) abortScripts(heap uint64) {
	h.mu.Lock()
	workers := h.liveWorkers()
	h.mu.Unlock()
	aborted := false
	for _, w := range workers {
		if w.table.Abort(fmt.Sprintf("the host's heap passed its limit of %d MiB", h.cfg.MemoryLimit>>20)) {
			aborted = true
			h.memoryAborts.Add(1)
			h.log.Error("heap over its limit: stopped the running script", "heap_bytes", heap, "limit_bytes", h.cfg.MemoryLimit)
		}
	}
	if aborted {
		// Give the stopped script's garbage back before the next look,
		// so that the next script to run is not blamed for it.
		runtime.GC()
	}
}
