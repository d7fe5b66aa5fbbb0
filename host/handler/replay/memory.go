package replay

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"
)

// DefaultMemoryLimit is the heap past which a replay's script is stopped
// when Config.MemoryLimit is zero: the host's own default.
const DefaultMemoryLimit = 256 << 20

// memoryCheckInterval is how often the heap is measured during a replay.
const memoryCheckInterval = 5 * time.Millisecond

// aborter stops the script running (session.DryRun).
type aborter interface{ Abort(reason string) bool }

// watchHeap stops the script d runs while the heap is over limit, until
// the returned function is called: a script building an enormous table
// ends its replay, not the sysop's command. Past the limit the garbage is
// collected first, and the script stopped if the heap is still over it;
// past twice the limit it is stopped at once.
func watchHeap(d aborter, limit uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	reason := fmt.Sprintf("the replay's heap passed its limit of %d MiB", limit>>20)
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		ticker := time.NewTicker(memoryCheckInterval)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
			}
			heap := heapBytes(sample)
			if heap >= limit && heap < 2*limit {
				runtime.GC()
				heap = heapBytes(sample)
			}
			if heap >= limit {
				d.Abort(reason)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// heapBytes is the heap's size (0 if the runtime cannot tell).
func heapBytes(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
