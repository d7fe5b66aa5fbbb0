package dispatch

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the niceness of the calling OS thread (on
// Linux, a thread's own; the caller has locked its goroutine to it).
func lowerThreadPriority(nice int) error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice)
}
