package main

import (
	"flag"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
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
