package dispatch

import (
	"runtime/debug"
	"sync"
	"time"
)

// Memory of hibernated sessions (host/handler/session/hibernate.go): a
// caller who hibernates leaves 5–6 KiB of coroutine to the collector, but
// Go gives freed memory back to the system only slowly (its scavenger
// runs at about 1% of a core), so a board whose callers go idle together
// would keep the resident size of its busiest moment for minutes. When
// ReleaseAfter callers have hibernated since the last release, and
// ReleaseEvery has passed, the host collects and returns what is free at
// once (debug.FreeOSMemory), on a goroutine of its own: the workers go on
// serving meanwhile, one collection at a time.
const (
	ReleaseAfter = 1024
	ReleaseEvery = 10 * time.Second
)

// memoryRelease decides when to give freed memory back.
type memoryRelease struct {
	mu      sync.Mutex
	freed   int64 // hibernations since the last release
	last    time.Time
	running bool
}

// noteHibernated counts the hibernations w's table made since the worker
// last looked (its goroutine calls it), and starts a release if due.
func (h *Host) noteHibernated(w *worker) {
	n := w.table.Stats().Hibernated
	delta := n - w.hibernations
	w.hibernations = n
	if delta > 0 {
		h.memory.note(delta, time.Now())
	}
}

// note adds n hibernations and starts a release if one is due.
func (m *memoryRelease) note(n int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed += n
	if m.freed < ReleaseAfter || m.running || now.Sub(m.last) < ReleaseEvery {
		return
	}
	m.freed, m.running = 0, true
	go func() {
		debug.FreeOSMemory()
		m.mu.Lock()
		m.running, m.last = false, time.Now()
		m.mu.Unlock()
	}()
}
