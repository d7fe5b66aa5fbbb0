package dispatch

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
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
// and the rest.
//
// The kernel, in turn, let a hash keep its core for milliseconds while a
// worker, the transport or the front end woke up behind it (perf sched:
// waits of 2–8 ms). So the pool's long work (a hash at the default cost,
// a QWK packet: longWork of CPU or more, typically) runs on an OS thread
// locked to it meanwhile, with a short scheduler slice (Config.HashSlice,
// 0.1 ms by default; setThreadSlice: Linux 6.12 and later): a thread that
// wakes on its core gets in after about that slice, while the work keeps
// its fair share of the core, as much CPU a second as before. The thread
// gets the kernel's slice back before it goes back to Go. Short work (a
// hash at cost 4) keeps the kernel's slice: it holds a core for less than
// one of the kernel's own slices anyway, and a short slice only made its
// login wait each time another thread woke (docs/benchmarks.md).
// Config.HashNice can also lower the threads' priority, so that the
// kernel gives the core to a worker first; it is off by default, because
// a thread the kernel starves holds up the whole host whenever the
// collector stops the world, which waits for every running goroutine, the
// hash's too (docs/benchmarks.md has the measurements).

// DefaultHashWorkers is the size of the hash pool when Config.HashWorkers
// is zero: every CPU but one, so that prompts always have one, and at
// least one.
func DefaultHashWorkers() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

// DefaultHashSlice is the scheduler slice of the hash threads when
// Config.HashSlice is zero: the shortest Linux allows.
const DefaultHashSlice = 100 * time.Microsecond

// longWork is the CPU time the pool's work typically takes, or more, for
// it to get the short slice.
const longWork = 5 * time.Millisecond

// hashSlice is the slice of Config.HashSlice s: DefaultHashSlice for
// zero, none (the kernel's) for a negative one.
func hashSlice(s time.Duration) time.Duration {
	switch {
	case s == 0:
		return DefaultHashSlice
	case s < 0:
		return 0
	}
	return s
}

// hashPool runs at most cap(slots) pieces of work at a time, in the order
// they came (Go's channel senders wait in line).
type hashPool struct {
	slots chan struct{}
	// nice, if positive, is the niceness of the threads the work runs on
	// (lowerThreadPriority).
	nice int
	// slice, if positive, is the scheduler slice of the threads long
	// work runs on (setThreadSlice).
	slice time.Duration
	// typicalCPUNanos is the CPU time the work takes, a moving average
	// of the last few pieces (0 before the first, or where threads' CPU
	// time is not measured).
	typicalCPUNanos atomic.Int64
}

// newHashPool returns a pool running n pieces of work at a time, on
// threads of niceness nice (none if nice is not positive) and scheduler
// slice slice (the kernel's if slice is not positive).
func newHashPool(n, nice int, slice time.Duration) *hashPool {
	return &hashPool{slots: make(chan struct{}, max(n, 1)), nice: nice, slice: slice}
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
		p.onHashThread(work)
		<-p.slots
		then()
	}()
}

// onHashThread runs work on the calling goroutine's OS thread, locked to
// it meanwhile, at the pool's niceness, and at its slice if the pool's
// work is long (typically longWork of CPU or more, or not known yet: the
// default bcrypt cost's hashes are long). A thread whose priority was
// lowered, or whose slice cannot be given back, is never unlocked, so Go
// ends it with the goroutine: no other goroutine ever runs at the lowered
// priority (an unprivileged process cannot raise it back) or the short
// slice. Such a new thread costs some tens of microseconds against a
// hash's milliseconds; a slice given and taken back, four system calls.
// Best effort: where the slice or the priority cannot be set, the work
// runs with the kernel's slice or at the host's priority. A pool with
// neither (the slice probed absent or turned off, no niceness) just runs
// work: there is nothing to set, nor a reason to measure it.
func (p *hashPool) onHashThread(work func()) {
	if p.nice <= 0 && p.slice <= 0 {
		work()
		return
	}
	runtime.LockOSThread()
	keep := false // true: the thread stays locked and ends with the goroutine
	if p.nice > 0 {
		_ = lowerThreadPriority(p.nice)
		keep = true
	}
	slice := p.slice
	if t := time.Duration(p.typicalCPUNanos.Load()); t > 0 && t < longWork {
		slice = 0
	}
	sliced := slice > 0 && setThreadSlice(slice) == nil
	cpu := threadCPU()
	work()
	p.took(threadCPU() - cpu)
	if sliced && !keep && setThreadSlice(0) != nil {
		keep = true
	}
	if !keep {
		runtime.UnlockOSThread()
	}
}

// took counts a piece of work that used cpu of CPU into the pool's typical
// time (nothing if it was not measured; of two pieces ending at once, one
// may be lost).
func (p *hashPool) took(cpu time.Duration) {
	if cpu <= 0 {
		return
	}
	t := p.typicalCPUNanos.Load()
	if t == 0 {
		t = int64(cpu)
	}
	p.typicalCPUNanos.Store((3*t + int64(cpu)) / 4)
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
