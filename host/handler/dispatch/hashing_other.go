//go:build !linux

package dispatch

// lowerThreadPriority does nothing where a thread's priority is not its
// own: the hash runs at the host's priority.
func lowerThreadPriority(int) error { return nil }
