package main

import (
	"runtime"
	"testing"
)

// TestReserveHashProcsAddsAPPerHashThread: the host's hash workers (cores
// - 1 when unset) each get a Go P beyond the process's, once per phone
// line's host; a host hashing on its Lua states (negative) gets none.
func TestReserveHashProcsAddsAPPerHashThread(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	for _, c := range []struct {
		name               string
		workers, hosts     int
		wantWorkers, wantP int
	}{
		{"default, one host", 0, 1, max(before-1, 1), before + max(before-1, 1)},
		{"two workers, three lines", 2, 3, 2, before + 6},
		{"hashes on the Lua states", -1, 1, -1, before},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GOMAXPROCS(before)
			s := &settings{}
			s.HashWorkers = c.workers
			reserveHashProcs(s, c.hosts)
			if s.HashWorkers != c.wantWorkers {
				t.Errorf("hash workers %d, want %d", s.HashWorkers, c.wantWorkers)
			}
			if got := runtime.GOMAXPROCS(0); got != c.wantP {
				t.Errorf("GOMAXPROCS %d, want %d", got, c.wantP)
			}
		})
	}
}
