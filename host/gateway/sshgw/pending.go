package sshgw

import (
	"net"
	"sync"
)

// DefaultMaxHandshakesPerAddr is Config.MaxHandshakesPerAddr's default.
const DefaultMaxHandshakesPerAddr = 2

// pendingByAddr counts the connections not yet logged in of each address
// (an IPv4 address, or an IPv6 /64: one subscriber's), so that a few
// addresses cannot take every handshake slot and keep SSH closed to the
// rest. It is safe for concurrent use.
type pendingByAddr struct {
	mu    sync.Mutex
	count map[string]int
}

// take counts one more pending connection from addr, unless it has max
// already; it reports whether it did.
func (p *pendingByAddr) take(addr net.Addr, max int) (key string, ok bool) {
	key = handshakeKey(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[key] >= max {
		return key, false
	}
	if p.count == nil {
		p.count = make(map[string]int)
	}
	p.count[key]++
	return key, true
}

// release counts one pending connection of key less.
func (p *pendingByAddr) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[key] <= 1 {
		delete(p.count, key)
		return
	}
	p.count[key]--
}

// handshakeKey is what pendingByAddr counts addr by: the IPv4 address, or
// the IPv6 /64.
func handshakeKey(addr net.Addr) string {
	ip := net.ParseIP(peerIP(addr))
	switch {
	case ip == nil:
		return addr.String()
	case ip.To4() != nil:
		return ip.To4().String()
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}
