package telnet

import (
	"errors"
	"net"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// DefaultFirstInputTimeout is how long a new caller has to send their
// first bytes: a telnet client answers the gateway's option negotiation at
// once, so only a silent socket waits that long.
const DefaultFirstInputTimeout = 10 * time.Second

// errNoInput ends a call that sent nothing within FirstInputTimeout.
var errNoInput = errors.New("caller sent nothing")

// Refusals a caller sees before the gateway hangs up.
const (
	tooManyFromAddr = "Too many calls from your address. Hang up one of them and call again.\r\n"
	callingTooFast  = "You are calling too fast. Wait a moment and call again.\r\n"
	nothingReceived = "\nNothing received. Goodbye.\n"
)

// admit applies the per-address limits to a new connection: it returns
// the release function, or nil after telling the caller why they are
// refused and hanging up.
func (s *Server) admit(nc net.Conn) (release func()) {
	verdict, release := s.addrs.Admit(nc.RemoteAddr())
	if verdict == netlimit.Admitted {
		return release
	}
	text := tooManyFromAddr
	if verdict == netlimit.TooFast {
		text = callingTooFast
	}
	s.noisy.Warn("telnet: caller refused", "reason", verdict.String(), "remote", nc.RemoteAddr().String(),
		"max_per_addr", s.cfg.PerAddr.MaxPerAddr, "accept_rate", s.cfg.PerAddr.AcceptRate)
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write([]byte(text))
	nc.Close()
	return nil
}

// firstInput returns a channel that fires when the caller has sent
// nothing for FirstInputTimeout since connecting (nil when that is off).
// Stop the timer when input comes. A caller heard while the negotiation
// settled has sent something already.
func (c *caller) firstInput() (*time.Timer, <-chan time.Time) {
	if c.s.cfg.FirstInputTimeout <= 0 || c.stream != nil || c.heard {
		return nil, nil
	}
	timer := time.NewTimer(time.Until(c.since.Add(c.s.cfg.FirstInputTimeout)))
	return timer, timer.C
}
