package telnet

import (
	"context"
	"net"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Terminal is what a caller's terminal said of itself: its type (TERM,
// TTYPE) and window size in characters (0: unknown). The telnet gateway
// learns it from TTYPE and NAWS; another gateway (SSH's pty-req and
// window-change) hands it to [Call.SetTerminal].
type Terminal struct {
	Type          string
	Width, Height int
}

// Login is an account a gateway has checked already (the SSH gateway,
// with the SSH user name and password): the call answers the board's
// first prompt with Name and, if the next prompt is a secret one,
// that with Password, so the board checks the password itself, with its
// own throttle, as for any caller. A prompt of another shape ends the
// typing: the caller answers it.
type Login struct {
	Name, Password string
}

// Stream describes a caller whose connection carries plain terminal
// bytes, not telnet: no option negotiation, no IAC, and Enter as CR or
// LF.
type Stream struct {
	// Terminal is the caller's terminal as known at the start.
	Terminal Terminal
	// Echo says the gateway echoes what the caller types (their terminal
	// is in raw mode, as under an SSH pty); false when the caller's own
	// terminal echoes.
	Echo bool
	// Binary says the connection carries any byte as it is (SSH's
	// channel), so the board may put the caller in binary stream mode
	// (a file transfer).
	Binary bool
	// Login, if set, is typed into the board's login prompts.
	Login *Login
	// Vouch, if set, is called for each "connect" the call sends: the
	// assertion it returns goes with it, telling the host that the caller
	// proved a public key of an account (see host/shared/keylogin).
	Vouch func() keylogin.Assertion
	// VouchWire names the members Vouch's assertion travels in
	// (keylogin.KeyLoginWire when zero; the RLogin gateway's remote
	// callers: keylogin.RemoteCallerWire).
	VouchWire keylogin.Wire
}

// streamCall is the part of a caller that only a Stream call has.
type streamCall struct {
	echo   bool
	binary bool
	login  *Login
	vouch  func() keylogin.Assertion
	wire   keylogin.Wire
	typed  int // prompts answered from login
}

// Call is one caller on a Stream connection, served by the Server's
// editor and rendering. Make one with [Server.NewCall].
type Call struct {
	c *caller
}

// NewCall prepares a call for nc, a connection carrying a Stream
// caller's bytes (its RemoteAddr is the caller's address). Serve serves
// it. The per-address limits are the gateway's that accepted the caller:
// NewCall does not apply them.
func (s *Server) NewCall(nc net.Conn, st Stream) *Call {
	c := newCaller(s, nc)
	c.stream = &streamCall{echo: st.Echo, binary: st.Binary, vouch: st.Vouch, wire: st.VouchWire}
	if c.stream.wire.Name == "" {
		c.stream.wire = keylogin.KeyLoginWire
	}
	if st.Login != nil {
		login := *st.Login
		c.stream.login = &login
	}
	c.prof = termprofile.Profile{Width: st.Terminal.Width, Height: st.Terminal.Height}.WithType(st.Terminal.Type)
	return &Call{c: c}
}

// SetTerminal records a change of the caller's terminal (a new window
// size); the board hears of it with the caller's next line. The
// character set follows a new type (termprofile.Detect) and is kept
// otherwise. It is safe to call while Serve runs.
func (k *Call) SetTerminal(t Terminal) {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	p := k.c.prof
	p.Width, p.Height = t.Width, t.Height
	if t.Type != p.Type {
		p = p.WithType(t.Type)
	}
	k.c.prof = p
}

// Terminal returns the caller's terminal as last recorded.
func (k *Call) Terminal() Terminal {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	return Terminal{Type: k.c.prof.Type, Width: k.c.prof.Width, Height: k.c.prof.Height}
}

// Serve serves the call until it ends or ctx is done, and closes the
// connection. Past MaxCallers the caller is told the lines are busy.
func (k *Call) Serve(ctx context.Context) {
	c := k.c
	if !c.s.register(c) {
		c.s.log.Warn("caller refused: too many callers", "remote", c.nc.RemoteAddr().String(), "max_callers", c.s.cfg.MaxCallers)
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write([]byte("All lines are busy. Please call again later.\r\n"))
		c.nc.Close()
		return
	}
	defer c.s.unregister(c)
	c.run(ctx)
}

// kind names the call in the log: "telnet", or "stream" for a Stream
// caller (whose logger says which gateway).
func (c *caller) kind() string {
	if c.stream != nil {
		return "stream"
	}
	return "telnet"
}

// text appends text for the caller's terminal: NVT for telnet; for a
// stream, LF becomes CR LF and nothing else changes.
func (c *caller) text(dst []byte, text string) []byte {
	if c.stream == nil {
		return AppendNVT(dst, text)
	}
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '\n' && (i == 0 || text[i-1] != '\r'):
			dst = append(dst, '\r', '\n')
		default:
			dst = append(dst, ch)
		}
	}
	return dst
}

// autoAnswer returns the Login's answer to prompt m, if it has one: the
// name for the first prompt (not a secret one), the password for the
// second if it is a secret. Any other prompt ends the typing for good.
func (c *caller) autoAnswer(m message.Message) (string, bool) {
	if c.stream == nil || c.stream.login == nil {
		return "", false
	}
	login := c.stream.login
	step := c.stream.typed
	c.stream.typed++
	switch {
	case step == 0 && !m.Secret:
		return login.Name, true
	case step == 1 && m.Secret:
		c.stream.login = nil
		return login.Password, true
	}
	c.stream.login = nil
	return "", false
}

// answer sends line as the caller's answer to the prompt just shown,
// echoing a name but never a secret.
func (c *caller) answer(line string) error {
	if c.stream.login != nil { // the name, not the password
		c.out = append(c.out, line...)
	}
	c.out = append(c.out, '\r', '\n')
	if err := c.flush(); err != nil {
		return err
	}
	c.req = c.request(line)
	return c.send()
}

// vouched adds the Stream's key-login assertion, if it has one, to req,
// a "connect" message (a JSON object and its NUL).
func (c *caller) vouched(req []byte) []byte {
	if c.stream == nil || c.stream.vouch == nil || len(req) < 2 || req[len(req)-2] != '}' {
		return req
	}
	members := c.stream.wire.AppendJSONMembers(nil, c.stream.vouch())
	req = req[:len(req)-2]
	req = append(req, members...)
	return append(req, '}', 0)
}
