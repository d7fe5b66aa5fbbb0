package mongrel2

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// DefaultCallers is the number of callers a Config with Callers 0 is sized
// for: the host's default -max-callers.
const DefaultCallers = 10_000

// MaxCallers is the most callers one Mongrel2 1.12 can hold: it keeps its
// connections in a table of 64 Ki file descriptors (MAX_REGISTERED_FDS in
// src/register.h) and refuses a connection on a higher one.
const MaxCallers = 64*1024 - fdReserve

// fdReserve is the poll slots and file descriptors Mongrel2 needs beside
// one per caller: the handlers' ZeroMQ sockets, the listener, the logs,
// the control port, the epoll descriptor, a caller's reply waiting for
// room in its socket, files the Dir route is sending.
const fdReserve = 64

// hotDividend is Mongrel2's superpoll.hot_dividend. Mongrel2 1.12 splits
// superpoll.max_fd poll slots into max_fd/hot_dividend "hot" ones, which
// zmq_poll scans on every turn of its event loop, and "idle" ones in an
// epoll set. A waiting caller takes a hot slot while one is free; the
// handlers' ZeroMQ sockets can wait only in a hot slot. Once waiting
// callers fill the hot slots, a handler socket has nowhere to wait ("Too
// many handler requests outstanding, your handler isn't running"), and
// Mongrel2 retries every 100 ms: a round trip took half a second with
// 3,000 callers parked and the defaults (10,240 / 4 = 2,560 hot slots).
// So the hot slots must outnumber the callers; 2 is the smallest dividend
// Mongrel2 accepts (1 leaves no idle slot and its epoll_create fails).
const hotDividend = 2

// Tuning is the Mongrel2 settings that size it for a number of callers.
type Tuning struct {
	// Callers is the number of callers it holds without stalling: as asked,
	// or fewer if FileLimit cut MaxFD.
	Callers int
	// MaxFD is superpoll.max_fd: the open-file limit Mongrel2 sets for
	// itself (soft and hard; if the hard limit is lower it keeps its soft
	// limit) and the number of poll slots it divides.
	MaxFD int
	// HotDividend is superpoll.hot_dividend (see hotDividend).
	HotDividend int
	// HandlerTargets is limits.handler_targets: conn ids in one reply,
	// m2proto.MaxReplyTargets, which the host never exceeds.
	HandlerTargets int
	// MinPing is limits.min_ping: how long a caller may stay silent.
	MinPing time.Duration
}

// TuningFor is the tuning for callers callers (DefaultCallers if 0)
// whose connections may stay silent for minPing (DefaultMinPing if 0),
// under a hard open-file limit of fileLimit (0: no limit). Under a limit
// lower than the callers need, MaxFD is the limit and Callers says how
// many fit.
func TuningFor(callers int, minPing time.Duration, fileLimit int) Tuning {
	if callers <= 0 {
		callers = DefaultCallers
	}
	if minPing <= 0 {
		minPing = DefaultMinPing
	}
	t := Tuning{
		Callers:        callers,
		MaxFD:          FileLimitFor(callers),
		HotDividend:    hotDividend,
		HandlerTargets: m2proto.MaxReplyTargets,
		MinPing:        minPing,
	}
	if fileLimit > 0 && t.MaxFD > fileLimit {
		t.MaxFD = fileLimit
		t.Callers = max(fileLimit/hotDividend-fdReserve, 0)
	}
	return t
}

// FileLimitFor is the open-file limit (ulimit -n, systemd's LimitNOFILE)
// Mongrel2 needs to hold callers callers: twice theirs and a reserve,
// because it counts its poll slots from the limit it gets and half of them
// must take the callers (see hotDividend).
func FileLimitFor(callers int) int { return hotDividend * (callers + fdReserve) }

// HardFileLimit is this process's hard open-file limit, which the
// Mongrel2 it starts inherits (0 if unknown or unlimited).
func HardFileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 1<<31-1 {
		return 0
	}
	return int(rl.Max)
}

// settings are t as Mongrel2's settings, by name.
func (t Tuning) settings() map[string]int {
	return map[string]int{
		"superpoll.max_fd":       t.MaxFD,
		"superpoll.hot_dividend": t.HotDividend,
		"limits.handler_targets": t.HandlerTargets,
		"limits.min_ping":        int(t.MinPing / time.Second),
	}
}

// renderSettings is the settings dict of m2.conf: the fixed ones, then
// the tuning's in name order.
func renderSettings(t Tuning) string {
	all := t.settings()
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("{'zeromq.threads': 1, 'server.daemonize': 0")
	for _, k := range names {
		fmt.Fprintf(&b, ",\n            '%s': %d", k, all[k])
	}
	b.WriteString("}")
	return b.String()
}
