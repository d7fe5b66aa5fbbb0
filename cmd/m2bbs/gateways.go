package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/gateway/web"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// Default ports of the browser page and the telnet gateway.
const (
	defaultWebPort    = 8080
	defaultTelnetPort = 2323
)

// gatewayOptions say where "m2bbs run" serves the browser page and telnet.
type gatewayOptions struct {
	webPort, telnetPort int // -1: off; 0: any free port
	sshPort             int // -1: off; 0: any free port
	// rlogin serves doors to other boards (rlogin.go).
	rlogin rloginOptions
	// ssh says how the SSH gateway checks passwords and keeps its keys.
	ssh sshOptions
	// lines is the number of phone lines: telnet callers hunt through
	// them for a free one (0: the single route @bbs).
	lines int
	// limits, if set, bound what one address may hold of telnet.
	limits *abuseLimits
	// peerKey, if set, is sent with each telnet caller's address in
	// every request (see telnet.Config.PeerKey): for the gateway that reaches
	// the host through Mongrel2.
	peerKey string
	// origins are the pages that may open WebSockets (-ws-origins, and
	// the page's own).
	origins access.Origins
}

// gateways are the browser page's HTTP server and the telnet gateway of a
// running board, and the addresses they listen on ("" when off).
type gateways struct {
	webAddr, telnetAddr string
	sshAddr             string
	rloginAddr          string
	wg                  sync.WaitGroup
}

// startGateways serves the browser page (with its WebSocket endpoints)
// and telnet on bind, each passing callers to the BBS through dialBBS
// (a classic JSON-socket connection: a pipe into the built-in front end,
// or TCP to Mongrel2). boardURL is the board's own HTTP address, where
// /lines and /status are answered. A port that cannot be bound is logged
// and left off: the board still serves its other callers. Everything stops
// when ctx is done; wait for it with gw.wait.
func startGateways(ctx context.Context, opt gatewayOptions, bind string, boardURL *url.URL, rawFrames bool,
	dialBBS func(ctx context.Context, route string, remote net.Addr) (net.Conn, error), log *slog.Logger) *gateways {
	gw := &gateways{}
	if opt.webPort >= 0 {
		if ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(opt.webPort))); err != nil {
			log.Warn("browser page: cannot listen; the page is off", "err", err)
		} else {
			gw.webAddr = ln.Addr().String()
			ln = limitPage(ln, opt.limits, log.With("gateway", "web"))
			srv := &http.Server{
				Handler: web.NewHandler(web.Config{
					Dial: dialBBS, RawFrames: rawFrames,
					Fallback: webProxy(boardURL, dialBBS, log.With("gateway", "web")),
					Origins:  opt.origins,
					Log:      log.With("gateway", "web"),
				}),
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       pageIdleTimeout(opt.limits),
				MaxHeaderBytes:    maxPageHeaderBytes,
				ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			}
			gw.wg.Go(func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("browser page", "err", err)
				}
			})
			gw.wg.Go(func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
				_ = srv.Close() // WebSockets are hijacked: Shutdown leaves them
			})
			log.Info("browser page listening", "url", "http://"+gw.webAddr+"/")
		}
	}
	var routes []string
	for i := 1; i <= opt.lines; i++ {
		routes = append(routes, lines.Route(i))
	}
	tcfg := telnet.Config{
		Dial: func(ctx context.Context, remote net.Addr) (net.Conn, error) {
			return dialBBS(ctx, telnet.DefaultRoute, remote)
		},
		Routes:    routes,
		RawFrames: rawFrames,
		PeerKey:   opt.peerKey,
		Log:       log.With("gateway", "telnet"),
	}
	if opt.limits != nil {
		tcfg = opt.limits.telnet(tcfg)
	}
	if opt.sshPort >= 0 {
		gw.sshAddr = startSSH(ctx, gw, opt.sshPort, bind, opt.ssh, tcfg, opt.limits, log)
	}
	if opt.rlogin.port >= 0 {
		gw.rloginAddr = startRLogin(ctx, gw, bind, opt.rlogin, tcfg, log)
	}
	if opt.telnetPort >= 0 {
		ts, err := telnet.New(tcfg)
		if err != nil {
			log.Error("telnet", "err", err)
			return gw
		}
		if ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(opt.telnetPort))); err != nil {
			log.Warn("telnet: cannot listen; telnet is off", "err", err)
		} else {
			gw.telnetAddr = ln.Addr().String()
			gw.wg.Go(func() {
				if err := ts.Serve(ctx, ln); err != nil {
					log.Error("telnet", "err", err)
				}
			})
			log.Info("telnet listening", "addr", gw.telnetAddr)
		}
	}
	return gw
}

// wait waits for the gateways to stop (after their context ended).
func (gw *gateways) wait() { gw.wg.Wait() }

// where tells a person where to point a browser and a telnet client.
func (gw *gateways) where() string {
	s := ""
	if gw.webAddr != "" {
		s += fmt.Sprintf("; browser: http://%s/", gw.webAddr)
	}
	if gw.telnetAddr != "" {
		ip, port, _ := net.SplitHostPort(gw.telnetAddr)
		s += fmt.Sprintf("; telnet: telnet %s %s", ip, port)
	}
	if gw.sshAddr != "" {
		ip, port, _ := net.SplitHostPort(gw.sshAddr)
		s += fmt.Sprintf("; ssh: ssh -p %s new@%s", port, ip)
	}
	if gw.rloginAddr != "" {
		s += "; rlogin (door server): " + gw.rloginAddr
	}
	return s
}

// tcpDialer dials the board's JSON-socket port (Mongrel2's) for a gateway.
func tcpDialer(addr string) func(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
	return func(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// newGatewayKey returns a fresh random key for gatewayOptions.peerKey
// and the host's session.Config.GatewayKey: it lives in this process's
// memory only.
func newGatewayKey() string {
	return rand.Text()
}
