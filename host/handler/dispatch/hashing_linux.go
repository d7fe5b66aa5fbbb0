package dispatch

import (
	"errors"
	"fmt"
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
// a thread of the normal policies ask for 0.1–100 ms (sched_setattr's
// sched_runtime), and the kernel then lets a thread that wakes on its core
// run after at most that much of it. Zero gives the thread the kernel's
// slice back. The thread's policy and niceness are kept; a thread of
// another policy (real-time, idle) is left as it is, with an error.
func setThreadSlice(slice time.Duration) error {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return err
	}
	if attr.Policy != unix.SCHED_NORMAL && attr.Policy != unix.SCHED_BATCH {
		return fmt.Errorf("scheduler policy %d: %w", attr.Policy, errors.ErrUnsupported)
	}
	attr.Runtime = uint64(max(slice, 0))
	attr.Flags = 0
	return unix.SchedSetAttr(0, attr, 0)
}
