package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/web"
)

// proxyTimeout bounds one request the browser page's port passes to the
// board (the board answers /lines and /status at once).
const proxyTimeout = 30 * time.Second

// proxiedCaller is the context key of the address of the page's caller
// whose request the proxy is passing on.
type proxiedCaller struct{}

// webProxy is the browser page's way to the board's own HTTP answers
// (/lines, /status): web.BoardProxy, but each request goes over a
// connection of its own from dial, made for the page's caller's address.
// The front end's per-address limits then count that caller: over TCP
// from 127.0.0.1 every proxied request would share the limits of the
// machine's own address, and one visitor could use them up for all.
func webProxy(board *url.URL, dial func(ctx context.Context, route string, remote net.Addr) (net.Conn, error), log *slog.Logger) http.Handler {
	h := web.BoardProxy(board, log)
	rp, ok := h.(*httputil.ReverseProxy)
	if !ok {
		return h
	}
	rp.Transport = &http.Transport{
		DisableKeepAlives: true, // a connection serves one caller
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			remote, _ := ctx.Value(proxiedCaller{}).(net.Addr)
			return dial(ctx, "", remote)
		},
		ResponseHeaderTimeout: proxyTimeout,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var remote net.Addr
		if ap, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil && ap.IP != nil {
			remote = ap
		}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), proxiedCaller{}, remote)))
	})
}
