package frontend

import (
	"sync"
	"sync/atomic"
)

// routeTable finds the route for a frame's path the way Mongrel2 1.12 does
// (src/adt/tst.c, tst_search_prefix, called by Host_match_backend): routes
// are keys of a ternary search tree, and the lookup walks the path down it.
//
//   - If a route is a prefix of the path, the longest such route wins:
//     "@bbs.1" and "@bbsx" go to "@bbs".
//   - If the whole path is consumed inside the tree, the first route below
//     it along the "equal" links wins: with only "@bbs" routed, "@", "@b"
//     and "@bb" go to "@bbs" too. Which route is "first" when several
//     extend the path depends on insertion order (Config.Routes order here;
//     for Mongrel2, the order m2sh stored the routes in).
//   - Otherwise there is no route and the caller gets 404.
//
// Bytes compare as C chars (signed), as in Mongrel2; paths are ASCII
// anyway.
type routeTable struct {
	root *tstNode
}

// routeTarget is what a route leads to. Its handler may change while the
// server runs (Server.Reroute), so it is read and written atomically.
type routeTarget struct {
	pattern string
	handler atomic.Pointer[handlerLink]

	// gate is read-locked while a caller's message on the route is passed
	// to its handler (conn.pass) and locked by Server.Hold to set held, so
	// that once Hold returns no message is half way to the handler.
	gate sync.RWMutex
	held chan struct{} // guarded by gate: set while the route is held, closed at its release
}

// newRouteTarget is a route to l.
func newRouteTarget(pattern string, l *handlerLink) *routeTarget {
	r := &routeTarget{pattern: pattern}
	r.handler.Store(l)
	return r
}

type tstNode struct {
	split         int8
	low, eq, high *tstNode
	target        *routeTarget
}

// insert adds a route under its pattern (non-empty); a later pattern
// replaces an equal one.
func (t *routeTable) insert(r *routeTarget) {
	key := r.pattern
	p := &t.root
	for i := 0; ; {
		if *p == nil {
			*p = &tstNode{split: int8(key[i])}
		}
		n := *p
		c := int8(key[i])
		switch {
		case c < n.split:
			p = &n.low
		case c > n.split:
			p = &n.high
		case i == len(key)-1:
			n.target = r
			return
		default:
			i++
			p = &n.eq
		}
	}
}

// match returns the route for path, or nil.
func (t *routeTable) match(path string) *routeTarget {
	if len(path) == 0 {
		return nil
	}
	p := t.root
	var last *tstNode
	for i := 0; i < len(path) && p != nil; {
		c := int8(path[i])
		switch {
		case c < p.split:
			p = p.low
		case c > p.split:
			p = p.high
		default:
			i++
			if i < len(path) {
				if p.target != nil {
					last = p
				}
				p = p.eq
			}
		}
	}
	if p == nil {
		p = last
	}
	for p != nil && p.target == nil {
		p = p.eq
	}
	if p == nil {
		return nil
	}
	return p.target
}
