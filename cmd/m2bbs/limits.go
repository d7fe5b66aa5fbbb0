package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// abuseLimits are "m2bbs run"'s limits on what one address or connection
// may hold of the built-in front end and the telnet gateway. The defaults
// suit a public board; loopback is not exempt, so a load test from one
// machine raises them (or passes -1 to switch one off).
type abuseLimits struct {
	perAddr      netlimit.Limits
	firstFrame   time.Duration
	maxBadFrames int
}

// register adds the limits' flags to fs.
func (a *abuseLimits) register(fs *flag.FlagSet) {
	fs.IntVar(&a.perAddr.MaxPerAddr, "max-per-addr", netlimit.DefaultMaxPerAddr,
		"connections one address may have open at once, on the board's port and on telnet (-1: no limit)")
	fs.Float64Var(&a.perAddr.AcceptRate, "accept-rate", netlimit.DefaultAcceptRate,
		"new connections per second one address may open in the long run (-1: no limit)")
	fs.IntVar(&a.perAddr.AcceptBurst, "accept-burst", netlimit.DefaultAcceptBurst,
		"new connections one address may open at once, past -accept-rate")
	fs.DurationVar(&a.firstFrame, "first-frame-timeout", frontend.DefaultFirstFrameTimeout,
		"close a connection whose first message (or, on telnet, first byte) has not come within this (-1s: never)")
	fs.IntVar(&a.maxBadFrames, "max-bad-frames", frontend.DefaultMaxBadFrames,
		"close a caller after this many messages that are not JSON (-1: never)")
}

// frontend returns the limits for the built-in front end, on top of base.
func (a *abuseLimits) frontend(base frontend.Limits) frontend.Limits {
	base.PerAddr = a.perAddr
	base.FirstFrameTimeout = a.firstFrame
	base.MaxBadFrames = a.maxBadFrames
	return base
}

// telnet sets the limits of the telnet gateway in cfg.
func (a *abuseLimits) telnet(cfg telnet.Config) telnet.Config {
	cfg.PerAddr = a.perAddr
	cfg.FirstInputTimeout = a.firstFrame
	return cfg
}

// pageConnsPerAddr is how many times -max-per-addr one address may hold
// of the browser page's port: a browser opens up to six connections to a
// site, and a household shares one address.
const pageConnsPerAddr = 4

// maxPageHeaderBytes bounds a request's headers on the page's port.
const maxPageHeaderBytes = 16 << 10

// pageRefusal is what an address past the page port's limits gets.
const pageRefusal = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"

// limitPage bounds what one address may hold of the browser page's port
// (ln): pageConnsPerAddr times -max-per-addr connections at once, at
// -accept-rate; past them the caller is told so and hung up on. With no
// limits (a, nil) ln is returned as it is.
func limitPage(ln net.Listener, a *abuseLimits, log *slog.Logger) net.Listener {
	if a == nil {
		return ln
	}
	limits := a.perAddr
	if limits.MaxPerAddr > 0 {
		limits.MaxPerAddr *= pageConnsPerAddr
	}
	noisy := lograte.New(log, 0, 0)
	return netlimit.NewListener(ln, netlimit.New(limits, nil), func(c net.Conn, v netlimit.Verdict) {
		noisy.Warn("browser page: connection refused", "reason", v.String(), "remote", c.RemoteAddr().String())
		body := v.String() + ": close some of them and try again\n"
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = fmt.Fprintf(c, pageRefusal, len(body), body)
		_ = c.Close()
	})
}

// pageIdleTimeout is how long a connection to the page's port may wait
// between requests: -first-frame-timeout, the time a caller has to say
// something on the other ports (0: no limit).
func pageIdleTimeout(a *abuseLimits) time.Duration {
	idle := frontend.DefaultFirstFrameTimeout
	if a != nil && a.firstFrame != 0 {
		idle = a.firstFrame
	}
	return max(idle, 0)
}
