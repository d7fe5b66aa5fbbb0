package telnet

import (
	"errors"
	"os"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// DefaultNegotiationWait is Config.NegotiationWait's default.
const DefaultNegotiationWait = 2 * time.Second

// silentClientWait is how long a client that answers nothing at all (nc,
// a script) is waited for before the BBS is dialled anyway.
const silentClientWait = 300 * time.Millisecond

// The terminal a caller has, and what the host is told of it.
//
// The gateway reads the caller's answers to its opening negotiation
// before it dials the BBS (settle), so that "connect" already says what
// the terminal is. Every request after it says it again, a change (a
// window resized: NAWS again) included: a script runs only when a line
// arrives, so it sees a change as soon as it could act on it, and a host
// that restarted, replays a journal or takes the call over from another
// learns the terminal from the line in hand.

// settle reads the client's answers to the opening negotiation until the
// terminal type and window size are known or refused, for at most
// Config.NegotiationWait (silentClientWait if the client sends nothing).
// Keys typed meanwhile are kept for the first prompt.
func (c *caller) settle() error {
	wait := c.s.cfg.NegotiationWait
	if wait <= 0 || c.stream != nil {
		return nil
	}
	start := time.Now()
	buf := make([]byte, ReadBufferBytes)
	for !c.settled() {
		deadline := start.Add(wait)
		if !c.heard {
			deadline = start.Add(min(wait, silentClientWait))
		}
		_ = c.nc.SetReadDeadline(deadline)
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.heard = true
			if kerr := c.keys(buf[:n]); kerr != nil {
				return kerr
			}
			if ferr := c.flush(); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			return errCallerHungUp
		}
	}
	_ = c.nc.SetReadDeadline(time.Time{})
	return nil
}

// settled reports whether the client has said its terminal type and
// window size, or refused to.
func (c *caller) settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttype := !c.opts.asked(OptTerminalType) && (!c.opts.his(OptTerminalType) || c.prof.Type != "")
	naws := !c.opts.asked(OptNAWS) && (!c.opts.his(OptNAWS) || c.sized)
	return ttype && naws
}

// encoding is the caller's character set, as far as the gateway knows.
func (c *caller) encoding() termprofile.Encoding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prof.Encoding
}

// withTerminal adds the caller's terminal to the request just built:
// "ansi": true (classic.WithANSI) unless the terminal is dumb, and once
// anything is known a "terminal" member (termprofile.Profile.AppendJSON),
// with "color": false for a dumb terminal.
func (c *caller) withTerminal(req []byte) []byte {
	c.mu.Lock()
	p := c.prof
	c.mu.Unlock()
	p.Keys = c.canKeys()
	p.Binary = c.canBinary()
	if !p.NoANSI {
		req = classic.WithANSI(req)
	}
	if p == (termprofile.Profile{}) {
		return req
	}
	req = classic.AppendMember(req, "terminal", p.AppendJSON(nil))
	if p.NoANSI {
		req = classic.AppendMember(req, "color", []byte("false"))
	}
	return req
}

// adoptEncoding follows the BBS when a script chose the caller's
// character set (message.Message.Encoding; "" changes nothing): this
// message and the ones after it are sent in it, and the requests say it.
func (c *caller) adoptEncoding(name string) {
	if name == "" {
		return
	}
	enc, ok := termprofile.ParseEncoding(name)
	if !ok {
		return
	}
	c.mu.Lock()
	c.prof.Encoding = enc
	c.mu.Unlock()
}

// charset is s, UTF-8 from the BBS, in the caller's character set.
func (c *caller) charset(s string) string {
	enc := c.encoding()
	if enc != termprofile.CP437 && enc != termprofile.ASCII {
		return s
	}
	return string(termprofile.Encode(nil, s, enc))
}

// typed is p, keys the caller typed, as UTF-8.
func (c *caller) typed(p []byte) []byte {
	if enc := c.encoding(); enc == termprofile.CP437 {
		return termprofile.Decode(nil, p, enc)
	}
	return p
}

// encodeEcho puts the editor's echo, c.out from mark on, in the caller's
// character set.
func (c *caller) encodeEcho(mark int) {
	enc := c.encoding()
	if (enc != termprofile.CP437 && enc != termprofile.ASCII) || mark >= len(c.out) {
		return
	}
	echo := string(c.out[mark:])
	c.out = termprofile.Encode(c.out[:mark], echo, enc)
}
