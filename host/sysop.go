package host

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/m2bbs/m2bbs/host/access"
	"github.com/m2bbs/m2bbs/host/m2proto"
)

// Header names as Mongrel2 and the built-in front end pass them.
var (
	sysopHeader      = strings.ToLower(access.SysopHeader)
	proxiedForHeader = strings.ToLower(access.ProxiedForHeader)
)

// sysopRefusal returns why req may not act as the sysop (the body of the
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
func (h *Host) sysopRefusal(req *m2proto.Request) string {
	if h.cfg.SysopToken != "" {
		token, ok := access.BearerToken(req.Header("authorization"))
		if ok && subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.SysopToken)) == 1 {
			return ""
		}
		return "sysop only: send the sysop token (Authorization: Bearer TOKEN)\n"
	}
	switch {
	case !loopbackCaller(req):
		return "sysop only: this board has no sysop token, so only its own machine may act as the sysop\n"
	case proxied(req):
		return "sysop only: this request came through a proxy; behind a proxy the board needs a sysop token\n"
	case req.Header(sysopHeader) != "1":
		return "sysop only: send the header " + access.SysopHeader + ": 1 (m2bbs status does)\n"
	case !access.LoopbackHost(req.Header("host")):
		return "sysop only: the Host header must name this machine (localhost or a loopback address)\n"
	case access.Origins{}.Check(req.Header("origin"), req.Header("host")) != nil,
		access.CrossSite(req.Header("sec-fetch-site")):
		return "sysop only: not from another site's page\n"
	}
	return ""
}

// isSysop reports whether req may see who is online and act.
func (h *Host) isSysop(req *m2proto.Request) bool { return h.sysopRefusal(req) == "" }

// loopbackCaller reports whether req's caller is on the machine itself:
// REMOTE_ADDR is a loopback address and so is the address the web port's
// proxy passed on, if any. A request without access.ProxiedForHeader
// reached the front end directly (the web port's proxy always sets it).
func loopbackCaller(req *m2proto.Request) bool {
	if !access.LoopbackAddr(req.Header("REMOTE_ADDR")) {
		return false
	}
	for _, hd := range req.Headers {
		if hd.Name == proxiedForHeader && !access.LoopbackAddr(hd.Value) {
			return false
		}
	}
	return true
}

// proxied reports whether req carries a header that a reverse proxy adds
// (access.ProxyHeader), or an X-Forwarded-For naming an address other
// than the loopback (a front end other than Mongrel2 or the built-in one
// that appends to it).
func proxied(req *m2proto.Request) bool {
	for _, hd := range req.Headers {
		if access.ProxyHeader(hd.Name) {
			return true
		}
		if hd.Name == "x-forwarded-for" {
			for addr := range strings.SplitSeq(hd.Value, ",") {
				if !access.LoopbackAddr(strings.TrimSpace(addr)) {
					return true
				}
			}
		}
	}
	return false
}

// refuseSysop answers a sysop action req may not take: 403 with why, and
// a log line (at most one a second: refused requests cost an attacker
// nothing).
func (h *Host) refuseSysop(req *m2proto.Request, why string) (int, []byte) {
	h.sysopRefusals.Warn(h.log, "sysop action refused", "conn_id", req.ConnID,
		"path", req.Header("PATH"), "remote_addr", req.Header("REMOTE_ADDR"),
		"origin", req.Header("origin"), "reason", strings.TrimSpace(why))
	return http.StatusForbidden, []byte(why)
}
