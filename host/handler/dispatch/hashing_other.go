//go:build !linux

package dispatch

import (
	"errors"
	"time"
)

// lowerThreadPriority does nothing where a thread's priority is not its
// own: the hash runs at the host's priority.
func lowerThreadPriority(int) error { return nil }

// setThreadSlice reports that this system has no slices per thread: the
// hash runs with the kernel's.
func setThreadSlice(time.Duration) error { return errors.ErrUnsupported }

// probeThreadSlice reports that this system has no slices per thread.
func probeThreadSlice() error { return errors.ErrUnsupported }

// threadCPU is not measured here: 0.
func threadCPU() time.Duration { return 0 }
