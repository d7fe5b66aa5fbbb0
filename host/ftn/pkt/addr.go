package pkt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Addr is an FTN address, zone:net/node.point. Point 0 is the node itself.
type Addr struct {
	Zone, Net, Node, Point uint16
}

// ErrBadAddr means a string is not an FTN address.
var ErrBadAddr = errors.New("pkt: not an FTN address (zone:net/node[.point])")

// ParseAddr parses "zone:net/node" or "zone:net/node.point", with an
// optional "@domain" suffix that is ignored (FTS-5001's 5D form).
func ParseAddr(s string) (Addr, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	zone, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Addr{}, fmt.Errorf("%w: %q", ErrBadAddr, clip(s))
	}
	net, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Addr{}, fmt.Errorf("%w: %q", ErrBadAddr, clip(s))
	}
	node, point, hasPoint := strings.Cut(rest, ".")
	var a Addr
	var err error
	if a.Zone, err = addrPart(zone); err == nil {
		if a.Net, err = addrPart(net); err == nil {
			if a.Node, err = addrPart(node); err == nil && hasPoint {
				a.Point, err = addrPart(point)
			}
		}
	}
	if err != nil || a.Zone == 0 {
		return Addr{}, fmt.Errorf("%w: %q", ErrBadAddr, clip(s))
	}
	return a, nil
}

// addrPart parses one decimal part of an address (0..65535).
func addrPart(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, ErrBadAddr
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrBadAddr
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err
}

// String returns "zone:net/node", with ".point" for a point.
func (a Addr) String() string {
	if a.Point != 0 {
		return fmt.Sprintf("%d:%d/%d.%d", a.Zone, a.Net, a.Node, a.Point)
	}
	return fmt.Sprintf("%d:%d/%d", a.Zone, a.Net, a.Node)
}

// Node2D is the "net/node" form SEEN-BY and PATH use.
func (a Addr) Node2D() NetNode { return NetNode{Net: a.Net, Node: a.Node} }

// Boss returns the address without its point: the node a point belongs to.
func (a Addr) Boss() Addr { a.Point = 0; return a }

// NetNode is a two-part address, net/node, as in SEEN-BY and PATH lines.
type NetNode struct {
	Net, Node uint16
}

// String returns "net/node".
func (n NetNode) String() string { return fmt.Sprintf("%d/%d", n.Net, n.Node) }

// ParseNetNodes reads the net/node lists of SEEN-BY or PATH lines, each
// given without its "SEEN-BY:" or "PATH:" prefix. As the standard allows,
// a bare node number takes the net of the entry before it. Entries that
// are not numbers are skipped; at most max entries are returned.
func ParseNetNodes(lines []string, max int) []NetNode {
	var out []NetNode
	var net uint16
	haveNet := false
	for _, line := range lines {
		for _, f := range strings.Fields(line) {
			if len(out) >= max {
				return out
			}
			if n, node, ok := strings.Cut(f, "/"); ok {
				nv, err1 := addrPart(n)
				dv, err2 := addrPart(stripPoint(node))
				if err1 != nil || err2 != nil {
					continue
				}
				net, haveNet = nv, true
				out = append(out, NetNode{Net: nv, Node: dv})
				continue
			}
			dv, err := addrPart(stripPoint(f))
			if err != nil || !haveNet {
				continue
			}
			out = append(out, NetNode{Net: net, Node: dv})
		}
	}
	return out
}

// stripPoint drops a ".point" suffix some software writes in PATH lines.
func stripPoint(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

// FormatNetNodes writes list as lines of at most width bytes each
// (prefix included), in the compact form: the net is written only when
// it changes. prefix is "SEEN-BY: " or "\x01PATH: ".
func FormatNetNodes(prefix string, list []NetNode, width int) []string {
	var lines []string
	var b strings.Builder
	var net uint16
	for _, n := range list {
		var entry string
		if b.Len() > 0 && n.Net == net {
			entry = strconv.Itoa(int(n.Node))
		} else {
			entry = n.String()
		}
		if b.Len() > 0 && b.Len()+1+len(entry) > width {
			lines = append(lines, b.String())
			b.Reset()
			entry = n.String()
		}
		if b.Len() == 0 {
			b.WriteString(prefix)
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(entry)
		net = n.Net
	}
	if b.Len() > 0 {
		lines = append(lines, b.String())
	}
	return lines
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
