package web

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/m2bbs/m2bbs/host/shared/access"
)

// BoardProxy returns a handler, for Config.Fallback, that passes the
// requests the page does not serve itself (/lines, /status and the
// sysop's actions) to the board's own HTTP address, board.
//
// The proxy never lends its own address to the caller: the board sees
// every request come from the proxy's loopback connection, so each one
// carries the caller's real address in access.ProxiedForHeader (any
// value the caller sent is replaced), and the host judges the caller by
// it. The Host header is passed as the caller sent it, so that the host's
// checks against DNS rebinding see the name the browser used.
func BoardProxy(board *url.URL, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(board)
			r.Out.Host = r.In.Host
			r.Out.Header.Set(access.ProxiedForHeader, callerIP(r.In.RemoteAddr))
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// callerIP is the IP address of an http.Request's RemoteAddr, or
// "unknown" (which the host takes for a caller elsewhere).
func callerIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil || net.ParseIP(host) == nil {
		return "unknown"
	}
	return host
}
