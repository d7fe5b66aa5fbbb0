package access

import (
	"net"
	"net/netip"
)

// IPv6PrefixBits is the length of the IPv6 prefix AddrKey counts as one
// caller: a /64 is what one home or one server is usually given, so a
// caller who owns one can pick among 2^64 addresses at will.
const IPv6PrefixBits = 64

// AddrKey is the key every per-address limit of the board counts a
// caller's address under (login and registration throttles, connection
// caps): an IPv4 address as itself ("192.0.2.1", an IPv4-mapped IPv6
// address included), an IPv6 address as its /64 prefix
// ("2001:db8:1:2::/64"). Keyed by the full IPv6 address, a caller would
// get a fresh allowance with every address of their prefix. A nil or
// invalid ip gives "".
func AddrKey(ip net.IP) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ""
	}
	return addrKey(a)
}

// AddrKeyString is AddrKey for an address as text: an IP address, with
// or without a port ("192.0.2.1:4242", "[2001:db8::1]:23") or an IPv6
// zone. Text that is no IP address (a Unix socket's path, "") is
// returned as it is, so that such callers still share one key.
func AddrKeyString(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return addrKey(ap.Addr())
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		return addrKey(a)
	}
	return addr
}

func addrKey(a netip.Addr) string {
	p, ok := AddrPrefix(a)
	if !ok {
		return a.String()
	}
	if p.Addr().Is4() {
		return p.Addr().String()
	}
	return p.String()
}

// AddrPrefix is the network a caller at a counts under: an IPv4 address
// (IPv4-mapped included) alone, an IPv6 address with the rest of its
// /IPv6PrefixBits. ok is false for an invalid address.
func AddrPrefix(a netip.Addr) (p netip.Prefix, ok bool) {
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = IPv6PrefixBits
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}
