// Package access holds the rules that decide which requests may use the
// board's HTTP surface from a browser, in one place for every front end:
//
//   - [CheckOrigin]: which web pages may open a WebSocket to the board.
//     The host applies it to handshakes Mongrel2 passes on, and the
//     built-in browser gateway (package web) to its own.
//   - [LoopbackHost], [SysopHeader], [CrossSite]: what a request on the
//     machine itself must show to act as the sysop when the board has no
//     sysop token (the host's status page applies them).
//   - [ProxiedForHeader]: how the web port's proxy tells the host who is
//     really calling, so that it never lends its own loopback address to
//     a request it passes on.
//
// Header names are given in their canonical form; Mongrel2 and the
// built-in front end pass them to the host lower-cased.
package access

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// SysopHeader is the header ("X-M2BBS-Sysop: 1") a sysop's tool sends
// when the board has no sysop token. A page of another site cannot make
// a browser send it: a custom header needs a CORS preflight, which the
// board never grants.
const SysopHeader = "X-M2BBS-Sysop"

// ProxiedForHeader carries the address of the caller on whose behalf the
// web port's proxy passes a request to the board. The host takes it as
// the caller's address; a request that sets it itself can only make
// itself look less trusted, never more.
const ProxiedForHeader = "X-M2BBS-Proxied-For"

// MaxPatterns bounds the number of origin patterns a setting may list.
const MaxPatterns = 64

// CheckOrigin reports whether a page at origin (a request's Origin
// header) may use the board reached as host (the request's Host header),
// and if not, why. Allowed are: no Origin at all (programs that are not
// browsers send none), a page served by the same host:port, and an origin
// matching one of patterns. A pattern is matched with path.Match,
// case-insensitively, against the origin's host:port ("bbs.example.org",
// "*.example.org"), or against scheme://host:port when it contains "://"
// ("https://bbs.example.org"). An Origin without a host ("null", from
// sandboxed frames and local files) is refused unless a pattern allows
// the literal string.
func CheckOrigin(origin, host string, patterns []string) error {
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		for _, p := range patterns {
			if strings.EqualFold(p, origin) {
				return nil
			}
		}
		return fmt.Errorf("origin %q is not a page of this board", origin)
	}
	if host != "" && strings.EqualFold(u.Host, host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not %q nor an allowed origin", origin, host)
}

// ParsePatterns splits a comma-separated list of origin patterns (the
// -ws-origins setting) and checks each; an empty string is no pattern.
func ParsePatterns(list string) ([]string, error) {
	var patterns []string
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			patterns = append(patterns, p)
		}
	}
	if len(patterns) > MaxPatterns {
		return nil, fmt.Errorf("origins: %d patterns, at most %d", len(patterns), MaxPatterns)
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("origins: bad pattern %q: %w", p, err)
		}
	}
	return patterns, nil
}

// LoopbackHost reports whether a Host header names the machine itself:
// "localhost" or a loopback address, with or without a port. A page that
// reached the board through DNS rebinding (evil.example resolving to
// 127.0.0.1) carries its own name and is refused.
func LoopbackHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		name = host[1 : len(host)-1]
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// LoopbackAddr reports whether addr, an IP address with or without a
// port, is a loopback address.
func LoopbackAddr(addr string) bool {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// CrossSite reports whether a request's Sec-Fetch-Site header says a
// browser sent it on behalf of another site ("cross-site", or
// "same-site": another port or subdomain of the same site). Absent (not
// a browser, or an old one) and "same-origin" or "none" (typed in the
// address bar) are not.
func CrossSite(secFetchSite string) bool {
	switch strings.ToLower(secFetchSite) {
	case "", "same-origin", "none":
		return false
	}
	return true
}

// ErrNoToken is returned by [CheckPublic] for a board open to the network
// without a sysop token.
var ErrNoToken = errors.New("a board open to the network needs a sysop token")

// MinTokenBytes is the shortest sysop token [CheckPublic] accepts.
const MinTokenBytes = 16

// CheckPublic reports whether a board that accepts callers from the
// network may start with this sysop token: it needs one, and one long
// enough not to be guessed over HTTP.
func CheckPublic(token string) error {
	if token == "" {
		return ErrNoToken
	}
	if len(token) < MinTokenBytes {
		return fmt.Errorf("the sysop token is %d bytes: a board open to the network needs one of at least %d", len(token), MinTokenBytes)
	}
	return nil
}
