// Package access holds the rules that decide which requests may use the
// board's HTTP surface from a browser, in one place for every front end:
//
//   - [Origins]: which web pages may open a WebSocket to the board.
//     The host applies it to handshakes Mongrel2 passes on, and the
//     built-in browser gateway (package web) to its own.
//   - [LoopbackHost], [SysopHeader], [CrossSite], [ProxyHeader]: what a
//     request on the machine itself must show to act as the sysop when
//     the board has no sysop token (the host's status page applies them).
//   - [BearerToken], [CheckToken], [CheckPublic]: the sysop token, how it
//     is sent, and which ones a board may start with.
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

// Origins says which web pages may open a WebSocket to the board: see
// [Origins.Check]. The zero value allows only the board's own pages on
// the machine itself.
type Origins struct {
	// Patterns are the origins, besides the board's own pages, whose
	// pages may (the -ws-origins setting, see [ParsePatterns]). A pattern
	// is matched with path.Match, case-insensitively, against the
	// origin's host:port ("bbs.example.org", "*.example.org"), or against
	// scheme://host:port when it contains "://"
	// ("https://bbs.example.org").
	Patterns []string
	// AnyName says the board is open to the network (-listen-all), where
	// callers reach it under names it cannot know (its DNS names): a page
	// served by the same host:port as the request is its own, whatever
	// the name. Without it, that holds only when the name is a loopback
	// one or an IP address (see [Origins.Check]).
	AnyName bool
}

// Check reports whether a page at origin (a request's Origin header) may
// use the board reached as host (the request's Host header), and if not,
// why. Allowed are:
//
//   - no Origin at all: programs that are not browsers send none;
//   - a page served by the same host:port, when host is a loopback name
//     or address, an IP address, or o.AnyName is set. A page of a
//     rebound name (evil.example resolving to 127.0.0.1 or to the
//     board's address on a private network: DNS rebinding) is
//     same-origin with its own Host and is refused unless the sysop
//     listed the name in o.Patterns;
//   - an origin matching one of o.Patterns.
//
// The origin's scheme is not compared for a page of the same host:port:
// behind a proxy that ends TLS the page is https while the board speaks
// http, and it is the same server either way. An Origin without a host
// ("null", from sandboxed frames and local files) is refused unless a
// pattern is the literal string.
func (o Origins) Check(origin, host string) error {
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		for _, p := range o.Patterns {
			if strings.EqualFold(p, origin) {
				return nil
			}
		}
		return fmt.Errorf("origin %q is not a page of this board", origin)
	}
	if host != "" && strings.EqualFold(u.Host, host) && (o.AnyName || LoopbackHost(host) || addressHost(host)) {
		return nil
	}
	for _, p := range o.Patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return nil
		}
	}
	if strings.EqualFold(u.Host, host) {
		return fmt.Errorf("origin %q names the board by a name it does not know (list it in -ws-origins)", origin)
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
	name := hostName(host)
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// addressHost reports whether a Host header is an IP address, with or
// without a port: a page at such an origin was served from that address,
// not under a name an attacker could point there.
func addressHost(host string) bool { return net.ParseIP(hostName(host)) != nil }

// hostName is a Host header without its port or IPv6 brackets.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return host[1 : len(host)-1]
	}
	return host
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

// ProxyHeader reports whether name (in any case) is a header that
// reverse proxies add to say on whose behalf they pass a request on:
// Forwarded (RFC 7239), Via, X-Real-IP, X-Forwarded-Host,
// X-Forwarded-Proto and their kin. A request carrying one came through a
// proxy, so its loopback address says nothing about its caller.
// X-Forwarded-For is not among them: Mongrel2 and the built-in front end
// replace it with the address of their own peer.
func ProxyHeader(name string) bool {
	switch strings.ToLower(name) {
	case "forwarded", "via", "x-real-ip", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port",
		"x-forwarded-server", "x-forwarded-scheme", "x-original-forwarded-for", "x-client-ip",
		"x-cluster-client-ip", "true-client-ip", "cf-connecting-ip", "fastly-client-ip":
		return true
	}
	return false
}

// BearerToken returns the token of an Authorization header of the Bearer
// scheme (RFC 6750; the scheme's name is case-insensitive, RFC 7235).
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// ErrNoToken is returned by [CheckPublic] for a board open to the network
// without a sysop token.
var ErrNoToken = errors.New("a board open to the network needs a sysop token")

// ErrShortToken is returned by [CheckToken] and [CheckPublic] for a sysop
// token shorter than MinTokenBytes.
var ErrShortToken = errors.New("the sysop token is too short")

// MinTokenBytes is the shortest sysop token [CheckToken] accepts.
const MinTokenBytes = 16

// CheckToken reports whether a board may start with this sysop token:
// none ("": only sysop tools on the board's own machine act as the
// sysop), or one long enough not to be guessed over HTTP. Any token
// counts from anywhere, whatever the board listens on (behind a proxy
// or Mongrel2 the host cannot tell), so a short one is always refused.
func CheckToken(token string) error {
	if token != "" && len(token) < MinTokenBytes {
		return fmt.Errorf("%w: %d bytes, at least %d needed", ErrShortToken, len(token), MinTokenBytes)
	}
	return nil
}

// CheckPublic reports whether a board that accepts callers from the
// network may start with this sysop token: it needs one ([ErrNoToken]),
// and one that [CheckToken] accepts.
func CheckPublic(token string) error {
	if token == "" {
		return ErrNoToken
	}
	return CheckToken(token)
}
