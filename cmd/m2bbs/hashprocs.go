package main

import (
	"runtime"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// reserveHashProcs gives the password hashes of the hosts this process
// serves (hosts: one, or one per phone line) Go Ps of their own: it fixes
// s.HashWorkers (cores - 1 when zero, as before) and raises GOMAXPROCS by
// that many per host. Go lets a running goroutine keep its P for up to
// 10 ms, so a hash holding one of two Ps left a ready worker waiting
// behind it; with a P per hash thread beyond one per core, the Go
// scheduler always has a P for a ready worker, and the kernel shares the
// cores between the hash threads (niced only with -hash-nice) and the rest
// (host/handler/dispatch/hashing.go). Call it once, before serve, after
// anything that sizes itself by GOMAXPROCS and should not count the hash
// threads (the SSH gateway's own hashes).
func reserveHashProcs(s *settings, hosts int) {
	if s.HashWorkers == 0 {
		s.HashWorkers = dispatch.DefaultHashWorkers()
	}
	if s.HashWorkers > 0 && hosts > 0 {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + hosts*s.HashWorkers)
	}
}
