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
//
// A hash must not hold up prompts below Lua either. Go's scheduler lets
// a running goroutine keep its P (one of GOMAXPROCS) for up to 10 ms
// before it preempts it for another that is ready, so on two cores a
// hash holding one P left the workers, the transport and the collector
// one P between them, and a worker that became ready while that P was
// busy waited behind the hash. The binary therefore runs the host with a
// P per hash thread beyond one per core (it raises GOMAXPROCS by the
// pool's size: cmd/m2bbs), so that the Go scheduler always has a P for a
// ready worker, and the kernel shares the cores between the hash threads
// and the rest. Config.HashNice can also run each hash on an OS thread
// of its own at a lower priority, so that the kernel gives the core to a
// worker first; it is off by default, because a thread the kernel starves
// holds up the whole host whenever the collector stops the world, which
// waits for every running goroutine, the hash's too
// (docs/benchmarks.md has the measurements).

// DefaultHashWorkers is the size of the hash pool when Config.HashWorkers
// is zero: every CPU but one, so that prompts always have one, and at
// least one.
func DefaultHashWorkers() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

// hashPool runs at most cap(slots) pieces of work at a time, in the order
// they came (Go's channel senders wait in line).
type hashPool struct {
	slots chan struct{}
	// nice, if positive, is the niceness of the threads the work runs on
	// (lowerThreadPriority).
	nice int
}

// newHashPool returns a pool running n pieces of work at a time, on
// threads of niceness nice (none if nice is not positive).
func newHashPool(n, nice int) *hashPool {
	return &hashPool{slots: make(chan struct{}, max(n, 1)), nice: nice}
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
		p.lowerPriority()
		work()
		<-p.slots
		then()
	}()
}

// lowerPriority moves the calling goroutine to an OS thread of its own at
// the pool's niceness. The goroutine keeps the thread to its end and
// never unlocks it, so Go ends the thread with the goroutine: no other
// goroutine ever runs at the lowered priority (an unprivileged process
// cannot raise it back). A new thread per hash costs some tens of
// microseconds against a hash's milliseconds. Best effort: where the
// priority cannot be set, the hash runs at the host's.
func (p *hashPool) lowerPriority() {
	if p.nice <= 0 {
		return
	}
	runtime.LockOSThread()
	_ = lowerThreadPriority(p.nice)
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
