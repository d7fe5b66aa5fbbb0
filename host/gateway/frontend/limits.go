package frontend

import (
	"encoding/json"
	"log/slog"
	"net"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// Defaults of the limits that keep one address, or one connection, from
// locking everyone else out (Limits.PerAddr, FirstFrameTimeout,
// MaxBadFrames). Mongrel2 has none of them; they suit a public board.
const (
	// DefaultFirstFrameTimeout is how long a new connection has to
	// complete its first frame (or HTTP head).
	DefaultFirstFrameTimeout = 10 * time.Second
	// DefaultMaxBadFrames is how many JSON frames whose payload is not
	// JSON a caller may send: the last one is answered 400 and the
	// connection closed.
	DefaultMaxBadFrames = 3
)

// withAbuseDefaults fills the zero fields of the abuse limits.
func (l Limits) withAbuseDefaults() Limits {
	l.PerAddr = l.PerAddr.WithDefaults()
	if l.FirstFrameTimeout == 0 {
		l.FirstFrameTimeout = DefaultFirstFrameTimeout
	}
	if l.MaxBadFrames == 0 {
		l.MaxBadFrames = DefaultMaxBadFrames
	}
	return l
}

// admitAddr applies the per-address limits to a new connection (caller
// holds s.mu). On refusal it returns nil: the caller must then close nc
// with refuseAddr, outside s.mu.
func (s *Server) admitAddr(nc net.Conn) (release func(), verdict netlimit.Verdict) {
	verdict, release = s.addrs.Admit(nc.RemoteAddr())
	return release, verdict
}

// refuseAddr closes a connection the per-address limits refused, without
// a byte (as past MaxConns), and counts and logs it (a few log lines per
// interval: an attack would otherwise fill the log).
func (s *Server) refuseAddr(nc net.Conn, verdict netlimit.Verdict) {
	reason := CloseTooManyFromAddr
	if verdict == netlimit.TooFast {
		reason = CloseAcceptRate
	}
	s.stats.closed[reason].Add(1)
	remote := nc.RemoteAddr().String()
	nc.Close()
	s.noisy.Warn("caller refused", "reason", reason.String(), "remote", remote,
		"max_per_addr", s.limits.PerAddr.MaxPerAddr, "accept_rate", s.limits.PerAddr.AcceptRate)
}

// firstFrameDeadline is when a caller who has not completed a frame yet is
// closed; zero if never.
func (c *conn) firstFrameDeadline() time.Time {
	if c.framed || c.s.limits.FirstFrameTimeout <= 0 {
		return time.Time{}
	}
	return c.accepted.Add(c.s.limits.FirstFrameTimeout)
}

// admitFrame counts a complete frame: the first one lifts the first-frame
// deadline (an HTTP request with a body, once its body has come too:
// readHTTPBody), and a JSON frame whose payload is not JSON counts towards
// MaxBadFrames. It reports false when the caller has been closed for
// sending too many of those (the last one answered 400, not forwarded).
func (c *conn) admitFrame(f *Frame) bool {
	if f.Kind != KindHTTP || f.ContentLength() <= 0 {
		c.framed = true
	}
	if f.Kind != KindJSON || c.s.limits.MaxBadFrames <= 0 || json.Valid(f.Body) {
		return true
	}
	c.badFrames++
	if c.badFrames < c.s.limits.MaxBadFrames {
		return true
	}
	c.finish(respBadRequest, CloseMalformedFrames, true)
	return false
}

// closeLevel is the level of the "caller closed" log line for reason, and
// whether the line goes through the server's log limiter: closes an
// attacker can cause by the thousand are rate-limited.
func closeLevel(reason CloseReason) (level slog.Level, limited bool) {
	switch reason {
	case CloseShutdown:
		return slog.LevelDebug, false
	case CloseNoFirstFrame, CloseMalformedFrames, CloseBadFrame, CloseFrameTooLarge, CloseUnknownRoute:
		return slog.LevelInfo, true
	}
	return slog.LevelInfo, false
}
