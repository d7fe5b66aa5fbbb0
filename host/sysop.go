package host

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/m2bbs/m2bbs/host/access"
	"github.com/m2bbs/m2bbs/host/m2proto"
)

// Who may act as the sysop over HTTP (the status page's callers list and
// its actions: broadcast, kick, upgrade, drain).
//
// With a sysop token set (Config.SysopToken), a request bearing it
// ("Authorization: Bearer TOKEN") may, from anywhere, and no other.
//
// Without a token, only a request from the machine itself may, and only
// one that a page in the sysop's browser cannot forge: it must come from
// a loopback address (the web port's proxy passes its caller's real
// address in access.ProxiedForHeader, which counts too), carry
// "X-M2BBS-Sysop: 1" (a custom header, which a page of another site
// cannot send without a CORS preflight the board never grants), name the
// machine itself in Host (so a page reaching the board by DNS rebinding
// is refused), and, if a browser sent it, come from a page of the board
// itself (Origin and Sec-Fetch-Site).
//
// Anyone else gets the public part of the status page (Status.public)
// and 403 for the actions.

// Header names as Mongrel2 and the built-in front end pass them.
var (
	sysopHeader      = strings.ToLower(access.SysopHeader)
	proxiedForHeader = strings.ToLower(access.ProxiedForHeader)
)

// refusalLog rate-limits the log lines of refused sysop actions and
// WebSocket handshakes (Host.refusals).
type refusalLog = access.RefusalLog

// sysopRefusal returns why req may not act as the sysop (the body of the
// 403 answer), or "" if it may.
func (h *Host) sysopRefusal(req *m2proto.Request) string {
	if h.cfg.SysopToken != "" {
		token, ok := strings.CutPrefix(req.Header("authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.SysopToken)) == 1 {
			return ""
		}
		return "sysop only: send the sysop token (Authorization: Bearer TOKEN)\n"
	}
	switch {
	case !loopbackCaller(req):
		return "sysop only: this board has no sysop token, so only its own machine may act as the sysop\n"
	case req.Header(sysopHeader) != "1":
		return "sysop only: send the header " + access.SysopHeader + ": 1 (m2bbs status does)\n"
	case !access.LoopbackHost(req.Header("host")):
		return "sysop only: the Host header must name this machine (localhost or a loopback address)\n"
	case access.CheckOrigin(req.Header("origin"), req.Header("host"), nil) != nil,
		access.CrossSite(req.Header("sec-fetch-site")):
		return "sysop only: not from another site's page\n"
	}
	return ""
}

// isSysop reports whether req may see who is online and act.
func (h *Host) isSysop(req *m2proto.Request) bool { return h.sysopRefusal(req) == "" }

// loopbackCaller reports whether req's caller is on the machine itself:
// REMOTE_ADDR is a loopback address and so is the address the web port's
// proxy passed on, if any.
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

// refuseSysop answers a sysop action req may not take: 403 with why, and
// a log line (at most one a second: refused requests cost an attacker
// nothing).
func (h *Host) refuseSysop(req *m2proto.Request, why string) (int, []byte) {
	h.refusals.Warn(h.log, "sysop action refused", "conn_id", req.ConnID,
		"path", req.Header("PATH"), "remote_addr", req.Header("REMOTE_ADDR"),
		"origin", req.Header("origin"), "reason", strings.TrimSpace(why))
	return http.StatusForbidden, []byte(why)
}
