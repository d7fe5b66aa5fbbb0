package dispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// worker is one Lua state serving its sessions on its own goroutine.
type worker struct {
	gen   *generation
	table *session.Table
	inbox chan func()
	// owned counts the callers routed to this worker (guarded by Host.mu).
	owned int
	// retired says no new callers come here; the worker stops once its
	// last caller leaves, and is then closed (both guarded by Host.mu).
	retired, closed bool
	// disconnects are disconnect notices that found inbox full (guarded
	// by Host.mu); wake tells the worker of them.
	disconnects map[string]*m2proto.Request
	wake        chan struct{}
	// results bring back to the worker the hashes its callers wait for
	// (hashing.go); exited is closed when the worker stops.
	results chan func()
	exited  chan struct{}
	// hibernations is the table's count the memory release last saw
	// (release.go).
	hibernations int64
}

// workerResults is how many finished hashes wait for a busy worker before
// the pool waits for it.
const workerResults = 64

// startWorkers runs each worker of gen on a goroutine of its own (caller
// holds Host.mu).
func (h *Host) startWorkers(ctx context.Context, gen *generation) {
	for _, w := range gen.workers {
		h.workersWG.Add(1)
		go h.runWorker(ctx, w)
	}
}

// maxCommitBatch bounds how many requests a worker handles before it
// commits their journals and sends their replies, however busy it is.
const maxCommitBatch = 16

// reapInterval is how often a worker looks for idle sessions.
func (h *Host) reapInterval() time.Duration {
	idle := h.cfg.Session.IdleTimeout
	if idle <= 0 {
		idle = session.DefaultIdleTimeout
	}
	every := min(max(idle/4, 10*time.Millisecond), 5*time.Second)
	if len(h.cfg.Session.TimeLimits) > 0 {
		every = min(every, time.Second) // time limits warn to the second
	}
	if hib := h.cfg.Session.HibernateAfter; hib > 0 {
		every = min(every, max(hib/2, 10*time.Millisecond)) // session/hibernate.go
	}
	return every
}

// runWorker serves w's queue, reaps its idle sessions, and ends when ctx is
// done or w is retired and empty.
func (h *Host) runWorker(ctx context.Context, w *worker) {
	defer h.workersWG.Done()
	defer h.closeWorker(w)
	defer close(w.exited)
	reap := time.NewTicker(h.reapInterval())
	defer reap.Stop()
	pass := 0 // requests handled since the last commit
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-w.inbox:
			job()
			pass++
		case done := <-w.results:
			done()
			pass++
		case <-w.wake:
			h.handleDisconnects(w)
		case <-reap.C:
			for _, id := range w.table.ReapIdle() {
				h.settle(w, id, false)
			}
			h.noteHibernated(w)
		}
		// Group commit: the journals of every caller served since the
		// last commit go to the store in one write, and their replies
		// after it, once nothing more waits (or after maxCommitBatch).
		if len(w.inbox) == 0 && len(w.results) == 0 || pass >= maxCommitBatch {
			for _, id := range w.table.DeliverEvents() { // one resume per listener (live.go)
				h.settle(w, id, false)
			}
			w.table.Commit()
			pass = 0
		}
		if h.finished(w) {
			return
		}
	}
}

// finished reports whether a retired worker has no callers left.
func (h *Host) finished(w *worker) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return w.retired && w.owned == 0
}

// closeWorker releases w's Lua state and keeps its counters.
func (h *Host) closeWorker(w *worker) {
	stats := w.table.Stats()
	w.table.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	w.closed = true
	h.ended = h.ended.Add(stats)
	for i, g := range h.retired {
		if g != w.gen {
			continue
		}
		done := true
		for _, other := range g.workers {
			done = done && other.closed
		}
		if done {
			h.retired = append(h.retired[:i], h.retired[i+1:]...)
			h.log.Info("scripts version retired", "version", g.version)
		}
		break
	}
}

// liveWorkers lists every worker not yet closed, current and retired
// (caller holds Host.mu).
func (h *Host) liveWorkers() []*worker {
	var all []*worker
	for _, g := range append([]*generation{h.current}, h.retired...) {
		for _, w := range g.workers {
			if !w.closed {
				all = append(all, w)
			}
		}
	}
	return all
}

// onWorker runs fn on w's goroutine and waits for it, up to timeout.
func onWorker[T any](ctx context.Context, w *worker, timeout time.Duration, fn func(*session.Table) T) (T, error) {
	return runOnWorker(ctx, w, timeout, fn, false)
}

// onWorkerInTime is onWorker for work that must not happen late: if w has
// not started fn within timeout, fn never runs and the error says so; once
// started, fn is waited for.
func onWorkerInTime[T any](ctx context.Context, w *worker, timeout time.Duration, fn func(*session.Table) T) (T, error) {
	return runOnWorker(ctx, w, timeout, fn, true)
}

// runOnWorker is onWorker, and with inTime onWorkerInTime.
func runOnWorker[T any](ctx context.Context, w *worker, timeout time.Duration, fn func(*session.Table) T, inTime bool) (T, error) {
	var zero T
	const waiting, running, dropped = 0, 1, 2
	var state atomic.Int32
	result := make(chan T, 1)
	job := func() {
		if !inTime || state.CompareAndSwap(waiting, running) {
			result <- fn(w.table)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case w.inbox <- job:
	case <-ctx.Done():
		return zero, fmt.Errorf("worker busy: %w", ctx.Err())
	}
	select {
	case r := <-result:
		return r, nil
	case <-ctx.Done():
		if !inTime || state.CompareAndSwap(waiting, dropped) {
			return zero, fmt.Errorf("worker busy: %w", ctx.Err())
		}
		return <-result, nil // it started in time
	}
}

// onWorkerPair is onWorker for a function with two results.
func onWorkerPair[A, B any](ctx context.Context, w *worker, fn func(*session.Table) (A, B)) (A, B, error) {
	type pair struct {
		a A
		b B
	}
	p, err := onWorker(ctx, w, statusTimeout, func(t *session.Table) pair {
		a, b := fn(t)
		return pair{a, b}
	})
	return p.a, p.b, err
}
