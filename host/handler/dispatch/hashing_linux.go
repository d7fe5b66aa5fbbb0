package dispatch

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// lowerThreadPriority sets the niceness of the calling OS thread (on
// Linux, a thread's own; the caller has locked its goroutine to it).
func lowerThreadPriority(nice int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}

// setThreadSlice gives the calling OS thread (the caller has locked its
// goroutine to it) a scheduler slice of its own: Linux 6.12 and later let
// a thread of the normal policies ask for one (sched_setattr's
// sched_runtime, clamped to 0.1–100 ms), and a thread that wakes on its
// core and is due a turn then runs after about that much of it. Zero
// gives the thread the kernel's slice back. The thread's policy and
// niceness are kept; a thread of another policy (real-time, idle) is left
// as it is, with an error. Older kernels ignore the slice.
func setThreadSlice(slice time.Duration) error {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return fmt.Errorf("sched_getattr: %w", err)
	}
	if attr.Policy != unix.SCHED_NORMAL && attr.Policy != unix.SCHED_BATCH {
		return fmt.Errorf("scheduler policy %d: %w", attr.Policy, errors.ErrUnsupported)
	}
	attr.Runtime = uint64(max(slice, 0))
	attr.Flags &= unix.SCHED_FLAG_RESET_ON_FORK // clearing it needs privileges
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		return fmt.Errorf("sched_setattr: %w", err)
	}
	return nil
}

// probeThreadSlice reports whether this system gives a thread a slice of
// its own (Linux 6.12 and later, unless a sandbox refuses the calls),
// trying DefaultHashSlice on a thread that ends with the try.
func probeThreadSlice() error {
	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		before, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			result <- fmt.Errorf("sched_getattr: %w", err)
			return
		}
		if err := setThreadSlice(DefaultHashSlice); err != nil {
			result <- err
			return
		}
		after, err := unix.SchedGetAttr(0, 0)
		switch {
		case err != nil:
			result <- fmt.Errorf("sched_getattr: %w", err)
		case after.Runtime == before.Runtime:
			result <- fmt.Errorf("the kernel kept its slice of %v (slices per thread need Linux 6.12): %w",
				time.Duration(before.Runtime), errors.ErrUnsupported)
		default:
			result <- nil
		}
	}()
	return <-result
}

// threadCPU is the CPU time the calling OS thread has used (the caller
// has locked its goroutine to it), or 0 if it cannot be read.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
