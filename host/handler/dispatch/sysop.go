package dispatch

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/access"
)

// sysopOnly is the authorisation of the sysop's actions: it passes to
// next only a request that may act as the sysop (sysopRefusal) and
// answers any other itself, 403 (429 past its wrong tokens) with why,
// logging it (refuseSysop).
func (h *Host) sysopOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := h.sysopRefusal(r); why != "" {
			code, body := h.refuseSysop(r, why)
			writeAnswer(w, code, body)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sysopRefusal returns why r may not act as the sysop (the body of the
// 403 answer), or "" if it may. It decides who may see the status page's
// callers list and take its actions (broadcast, kick, upgrade, drain):
//
// With a sysop token set (Config.SysopToken), a request bearing it
// ("Authorization: Bearer TOKEN", the scheme in any case) may, from
// anywhere, and no other.
//
// Without a token, only a request from the machine itself may, and only
// one that a page in the sysop's browser cannot forge: it must come from
// a loopback address (the web port's proxy passes its caller's real
// address in access.ProxiedForHeader, which counts too) and not through
// another reverse proxy (a header such as Forwarded, Via or X-Real-IP:
// behind a proxy on the same machine every caller comes from the
// loopback), carry "X-M2BBS-Sysop: 1" (a custom header, which a page of
// another site cannot send without a CORS preflight the board never
// grants), name the machine itself in Host (so a page reaching the board
// by DNS rebinding is refused), and, if a browser sent it, come from a
// page of the board itself (Origin and Sec-Fetch-Site).
//
// Anyone else gets the public part of the status page (Status.public)
// and 403 for the actions.
//
// An address that sent MaxWrongTokens wrong tokens within WrongTokenWindow
// is refused (429) until the window ends, without its token being
// compared (sysopGuard).
func (h *Host) sysopRefusal(r *http.Request) string {
	if h.cfg.SysopToken != "" {
		key := guessKey(r)
		now := time.Now()
		if h.sysop.blocked(key, now) {
			return tooManyWrongTokens
		}
		token, ok := access.BearerToken(r.Header.Get("Authorization"))
		if ok && subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.SysopToken)) == 1 {
			return ""
		}
		if ok {
			h.sysop.wrongToken(key, now)
		}
		return "sysop only: send the sysop token (Authorization: Bearer TOKEN)\n"
	}
	switch {
	case !loopbackCaller(r):
		return "sysop only: this board has no sysop token, so only its own machine may act as the sysop\n"
	case proxied(r):
		return "sysop only: this request came through a proxy; behind a proxy the board needs a sysop token\n"
	case r.Header.Get(access.SysopHeader) != "1":
		return "sysop only: send the header " + access.SysopHeader + ": 1 (m2bbs status does)\n"
	case !access.LoopbackHost(r.Host):
		return "sysop only: the Host header must name this machine (localhost or a loopback address)\n"
	case access.Origins{}.Check(r.Header.Get("Origin"), r.Host) != nil,
		access.CrossSite(r.Header.Get("Sec-Fetch-Site")):
		return "sysop only: not from another site's page\n"
	}
	return ""
}

// isSysop reports whether r may see who is online and act.
func (h *Host) isSysop(r *http.Request) bool { return h.sysopRefusal(r) == "" }

// loopbackCaller reports whether r's caller is on the machine itself:
// REMOTE_ADDR is a loopback address and so is the address the web port's
// proxy passed on, if any. A request without access.ProxiedForHeader
// reached the front end directly (the web port's proxy always sets it).
func loopbackCaller(r *http.Request) bool {
	if !access.LoopbackAddr(r.RemoteAddr) {
		return false
	}
	for _, addr := range r.Header.Values(access.ProxiedForHeader) {
		if !access.LoopbackAddr(addr) {
			return false
		}
	}
	return true
}

// proxied reports whether r carries a header that a reverse proxy adds
// (access.ProxyHeader), or an X-Forwarded-For naming an address other
// than the loopback (a front end other than Mongrel2 or the built-in one
// that appends to it).
func proxied(r *http.Request) bool {
	for name := range r.Header {
		if access.ProxyHeader(name) {
			return true
		}
	}
	for _, value := range r.Header.Values("X-Forwarded-For") {
		for addr := range strings.SplitSeq(value, ",") {
			if !access.LoopbackAddr(strings.TrimSpace(addr)) {
				return true
			}
		}
	}
	return false
}

// refuseSysop answers a sysop action r may not take: 403 with why (429
// for an address past its wrong tokens), and a log line (at most one a
// second: refused requests cost an attacker nothing).
func (h *Host) refuseSysop(r *http.Request, why string) (int, []byte) {
	h.sysop.refusals.Warn(h.log, "sysop action refused", "conn_id", connIDOf(r.Context()),
		"path", r.URL.Path, "remote_addr", r.RemoteAddr, "caller", callerAddr(r),
		"origin", r.Header.Get("Origin"), "reason", strings.TrimSpace(why))
	if why == tooManyWrongTokens {
		return http.StatusTooManyRequests, []byte(why)
	}
	return http.StatusForbidden, []byte(why)
}

// callerAddr is the address of r's caller: REMOTE_ADDR, or, for a
// request from the loopback, the one the web port's proxy passed on, if
// any. A caller from elsewhere cannot choose it by sending the header.
func callerAddr(r *http.Request) string {
	remote := r.RemoteAddr
	if !access.LoopbackAddr(remote) {
		return remote
	}
	if addr := r.Header.Get(access.ProxiedForHeader); addr != "" {
		return addr
	}
	return remote
}

// guessKey is what r's wrong tokens are counted under (sysopGuard): the
// caller's address as every per-address limit counts it (an IPv4
// address, an IPv6 /64); for a request from the loopback, the address
// the web port's proxy passed on, apart from the same address calling
// directly (any program on the machine can send the header, and must
// not lock a direct caller out); "" for the loopback itself, which is not
// counted.
func guessKey(r *http.Request) string {
	if !access.LoopbackAddr(r.RemoteAddr) {
		return access.AddrKeyString(r.RemoteAddr)
	}
	if addr := r.Header.Get(access.ProxiedForHeader); addr != "" && !access.LoopbackAddr(addr) {
		return "proxied " + access.AddrKeyString(addr)
	}
	return ""
}

// Wrong sysop tokens: limits of sysopGuard.
const (
	// MaxWrongTokens is how many wrong sysop tokens an address may send
	// within WrongTokenWindow; past it, its sysop requests get 429 until
	// the window ends.
	MaxWrongTokens = 10
	// WrongTokenWindow is how long wrong tokens are counted.
	WrongTokenWindow = time.Minute
	// maxTokenAddrs bounds the addresses counted apart in one window;
	// past it, every new one is counted in one shared count (overflowKey),
	// so that a flood of addresses makes the guard refuse more, never
	// less.
	maxTokenAddrs = 4096
	// overflowKey is the shared count's key.
	overflowKey = "overflow"
)

// tooManyWrongTokens is the answer to an address past MaxWrongTokens.
const tooManyWrongTokens = "sysop only: too many wrong tokens from your address; wait a minute\n"

// sysopGuard counts wrong sysop tokens per address (guessKey) in fixed
// windows of WrongTokenWindow, and rate-limits the log lines of refused
// sysop actions. The loopback's own requests are not counted (key ""):
// the sysop's own tools on the board's machine must not be locked out by
// a caller behind a reverse proxy on it, where everyone comes from the
// loopback (behind a proxy, the token's length is the defence). The zero
// value is ready; it is safe for concurrent use.
type sysopGuard struct {
	refusals access.RefusalLog

	mu    sync.Mutex
	since time.Time      // start of the current window
	wrong map[string]int // address -> wrong tokens in the window
}

// roll starts a new window if the current one is over; g.mu is held.
func (g *sysopGuard) roll(now time.Time) {
	if g.wrong == nil || now.Sub(g.since) >= WrongTokenWindow {
		g.since, g.wrong = now, map[string]int{}
	}
}

// counted is the key key's wrong tokens are counted under in this
// window: key, or overflowKey once maxTokenAddrs keys are counted apart;
// g.mu is held.
func (g *sysopGuard) counted(key string) string {
	if _, ok := g.wrong[key]; ok || len(g.wrong) < maxTokenAddrs {
		return key
	}
	return overflowKey
}

// blocked reports whether key is past MaxWrongTokens in this window.
func (g *sysopGuard) blocked(key string, now time.Time) bool {
	if key == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	return g.wrong[g.counted(key)] >= MaxWrongTokens
}

// wrongToken counts a wrong token under key.
func (g *sysopGuard) wrongToken(key string, now time.Time) {
	if key == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	g.wrong[g.counted(key)]++
}
