// Package netlimit bounds what one network address may hold of a
// listener: connections open at once, and how fast new ones are accepted
// (a token bucket per address). The built-in front end and the telnet
// gateway use it, so that one host opening thousands of silent sockets
// cannot lock everyone else out.
//
// IPv4 addresses are counted one by one; IPv6 addresses by their /64
// prefix, the block one subscriber usually holds.
package netlimit

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/access"
)

// Defaults for a zero field of Limits: suitable for a public board.
const (
	DefaultMaxPerAddr  = 8
	DefaultAcceptRate  = 10 // per second
	DefaultAcceptBurst = 20
)

// Limits say what one address may hold. A zero field takes its default; a
// negative one switches that limit off.
type Limits struct {
	// MaxPerAddr bounds the connections one address has open at once.
	MaxPerAddr int
	// AcceptRate is how many connections per second one address may
	// open in the long run, AcceptBurst how many at once.
	AcceptRate  float64
	AcceptBurst int
}

// WithDefaults fills the zero fields.
func (l Limits) WithDefaults() Limits {
	if l.MaxPerAddr == 0 {
		l.MaxPerAddr = DefaultMaxPerAddr
	}
	if l.AcceptRate == 0 {
		l.AcceptRate = DefaultAcceptRate
	}
	if l.AcceptBurst == 0 {
		l.AcceptBurst = DefaultAcceptBurst
	}
	return l
}

// Verdict says whether a connection was admitted, and if not why.
type Verdict int

// The verdicts of Admit.
const (
	// Admitted: the connection may be served; call the release function
	// when it closes.
	Admitted Verdict = iota
	// TooManyFromAddr: the address has MaxPerAddr connections open.
	TooManyFromAddr
	// TooFast: the address opened connections faster than AcceptRate.
	TooFast
)

// String says the verdict in a few words.
func (v Verdict) String() string {
	switch v {
	case Admitted:
		return "admitted"
	case TooManyFromAddr:
		return "too many connections from this address"
	case TooFast:
		return "connecting too fast"
	}
	return "unknown verdict"
}

// sweepEvery is how often addresses with nothing open and a full bucket
// are forgotten.
const sweepEvery = 10 * time.Second

// Limiter applies Limits per address. Its methods are safe for concurrent
// use. The zero value is not usable: call New.
type Limiter struct {
	limits Limits
	now    func() time.Time

	mu        sync.Mutex
	addrs     map[netip.Prefix]*addrState
	lastSweep time.Time
}

// addrState is one address's open connections and token bucket.
type addrState struct {
	open   int
	tokens float64
	last   time.Time
}

// New returns a Limiter for limits (defaults filled in). now is the clock;
// time.Now when nil.
func New(limits Limits, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limits: limits.WithDefaults(), now: now, addrs: make(map[netip.Prefix]*addrState)}
}

// Limits returns the limits in force.
func (l *Limiter) Limits() Limits { return l.limits }

// Key is what addr is counted under: its IP (IPv6: its /64). ok is false
// for an address that is not an IP (a pipe), which no limit applies to.
func Key(addr net.Addr) (key netip.Prefix, ok bool) {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, ok = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, ok = netip.AddrFromSlice(a.IP)
	default:
		if addr == nil {
			return netip.Prefix{}, false
		}
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return netip.Prefix{}, false
		}
		ip, ok = ap.Addr(), true
	}
	if !ok {
		return netip.Prefix{}, false
	}
	return access.AddrPrefix(ip)
}

// Admit decides on a new connection from addr. If it is admitted, release
// must be called once when the connection closes.
func (l *Limiter) Admit(addr net.Addr) (v Verdict, release func()) {
	key, ok := Key(addr)
	if !ok {
		return Admitted, func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	st := l.addrs[key]
	if st == nil {
		st = &addrState{tokens: float64(l.limits.AcceptBurst), last: now}
		l.addrs[key] = st
	}
	if l.limits.AcceptRate > 0 && l.limits.AcceptBurst > 0 {
		st.tokens = min(float64(l.limits.AcceptBurst), st.tokens+now.Sub(st.last).Seconds()*l.limits.AcceptRate)
		st.last = now
		if st.tokens < 1 {
			return TooFast, nil
		}
		st.tokens--
	}
	if l.limits.MaxPerAddr > 0 && st.open >= l.limits.MaxPerAddr {
		return TooManyFromAddr, nil
	}
	st.open++
	var once sync.Once
	return Admitted, func() { once.Do(func() { l.release(key) }) }
}

func (l *Limiter) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.addrs[key]; st != nil {
		st.open--
	}
}

// Open is how many connections addr's key has open.
func (l *Limiter) Open(addr net.Addr) int {
	key, ok := Key(addr)
	if !ok {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.addrs[key]; st != nil {
		return st.open
	}
	return 0
}

// sweep forgets, every sweepEvery, the addresses with nothing open whose
// bucket has refilled: they are as if never seen (caller holds l.mu).
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for key, st := range l.addrs {
		full := l.limits.AcceptRate <= 0 ||
			st.tokens+now.Sub(st.last).Seconds()*l.limits.AcceptRate >= float64(l.limits.AcceptBurst)
		if st.open == 0 && full {
			delete(l.addrs, key)
		}
	}
}
