package dispatch

import (
	"context"
	"runtime"
)

// Password hashes (bcrypt: tens of milliseconds each at the default cost)
// run on a pool of goroutines of their own, never on a worker: a worker
// serves many callers, and each would wait behind every login. The
// session table hands a hash over (session.Deps.Background) and its
// caller's coroutine waits; when the hash is done the result goes back
// to the worker through its results channel.

// DefaultHashWorkers is the size of the hash pool when Config.HashWorkers
// is zero: every CPU but one, so that prompts always have one, and at
// least one.
func DefaultHashWorkers() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

// hashPool runs at most cap(slots) pieces of work at a time, in the order
// they came (Go's channel senders wait in line).
type hashPool struct{ slots chan struct{} }

// newHashPool returns a pool running n pieces of work at a time.
func newHashPool(n int) *hashPool {
	return &hashPool{slots: make(chan struct{}, max(n, 1))}
}

// run does work when a slot is free, unless ctx is done first, then calls
// then. It never waits: the caller is a worker.
func (p *hashPool) run(ctx context.Context, work, then func()) {
	go func() {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return // the caller is gone: nobody wants the result
		}
		if ctx.Err() != nil {
			<-p.slots
			return
		}
		work()
		<-p.slots
		then()
	}()
}

// background is the session tables' Deps.Background for w: the work runs
// on the host's hash pool, then goes back to w's goroutine, where the
// caller is forgotten if their session ended on it. It is nil when the
// host has no pool (Config.HashWorkers negative).
func (h *Host) background(w *worker) func(ctx context.Context, connID string, work, then func()) {
	if h.hashes == nil {
		return nil
	}
	return func(ctx context.Context, connID string, work, then func()) {
		h.hashes.run(ctx, work, func() {
			w.post(func() {
				then()
				h.settle(w, connID, false)
			})
		})
	}
}

// post hands fn to w's goroutine, unless w has stopped.
func (w *worker) post(fn func()) {
	select {
	case w.results <- fn:
	case <-w.exited:
	}
}
