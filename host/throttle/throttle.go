// Package throttle slows down password guessing: after repeated failed
// logins for one handle, or from one peer address, further attempts are
// refused for a while.
package throttle

import (
	"strings"
	"sync"
	"time"
)

// Defaults for Limits.
const (
	DefaultPerHandle = 5
	DefaultPerPeer   = 20
	DefaultWindow    = 15 * time.Minute
	// MaxTracked bounds the handles and addresses remembered; past it the
	// oldest are forgotten first.
	MaxTracked = 100_000
)

// Limits says how many failures are allowed within Window per handle and
// per peer address.
type Limits struct {
	PerHandle, PerPeer int
	Window             time.Duration
}

// Throttle counts failed logins. It is safe for concurrent use.
type Throttle struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	order   []string // keys in the order first seen, for eviction
}

// entry is the failures of one key within the window.
type entry struct {
	failures []time.Time
}

// New returns a Throttle; zero Limits fields take the defaults. now is
// the clock (time.Now when nil).
func New(limits Limits, now func() time.Time) *Throttle {
	if limits.PerHandle <= 0 {
		limits.PerHandle = DefaultPerHandle
	}
	if limits.PerPeer <= 0 {
		limits.PerPeer = DefaultPerPeer
	}
	if limits.Window <= 0 {
		limits.Window = DefaultWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{limits: limits, now: now, entries: make(map[string]*entry)}
}

func handleKey(handle string) string { return "h:" + strings.ToLower(handle) }
func peerKey(peer string) string     { return "p:" + peer }

// Wait is how long login attempts for handle from peer are refused; zero
// means an attempt may go ahead.
func (t *Throttle) Wait(handle, peer string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := t.waitLocked(handleKey(handle), t.limits.PerHandle, now)
	if peer != "" {
		wait = max(wait, t.waitLocked(peerKey(peer), t.limits.PerPeer, now))
	}
	return wait
}

// waitLocked is the wait for one key with the given allowance.
func (t *Throttle) waitLocked(key string, allowed int, now time.Time) time.Duration {
	e := t.entries[key]
	if e == nil {
		return 0
	}
	e.prune(now, t.limits.Window)
	if len(e.failures) < allowed {
		return 0
	}
	// Refused until the oldest counted failure leaves the window.
	return e.failures[len(e.failures)-allowed].Add(t.limits.Window).Sub(now)
}

// Failed records a failed login.
func (t *Throttle) Failed(handle, peer string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.add(handleKey(handle), now)
	if peer != "" {
		t.add(peerKey(peer), now)
	}
}

// Succeeded forgets the handle's failures (not the peer's: one good
// password must not reset a guessing spree over many handles).
func (t *Throttle) Succeeded(handle, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, handleKey(handle))
}

func (t *Throttle) add(key string, now time.Time) {
	e := t.entries[key]
	if e == nil {
		for len(t.entries) >= MaxTracked && len(t.order) > 0 {
			delete(t.entries, t.order[0])
			t.order = t.order[1:]
		}
		e = &entry{}
		t.entries[key] = e
		t.order = append(t.order, key)
	}
	e.prune(now, t.limits.Window)
	e.failures = append(e.failures, now)
}

// prune drops failures older than the window.
func (e *entry) prune(now time.Time, window time.Duration) {
	i := 0
	for i < len(e.failures) && now.Sub(e.failures[i]) >= window {
		i++
	}
	e.failures = e.failures[i:]
}
