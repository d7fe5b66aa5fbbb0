// Package doorserver dials the door servers a sysop lists in the
// settings (door networks and other boards that serve doors over RLogin
// or telnet) for one caller, and gives back the byte stream a bridge
// joins to the caller's terminal (host/handler/termbridge).
//
// The credentials are the sysop's: a Server's templates say what the
// RLogin handshake carries ("{secret}", "alpha:{user}", "xtrn={door}")
// and scripts only name the server and, for networks that take one, a
// door code. Nothing a caller types reaches a template but their own
// name (an account's, letters and digits) and the door code the script
// passes, both checked.
package doorserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
)

// DialTimeout bounds the dial and the handshake with a door server.
const DialTimeout = 10 * time.Second

// MaxDoorCode bounds a door code a script passes ("lord", "usurper").
const MaxDoorCode = 32

// The protocols a door server may speak.
const (
	ProtocolRLogin = "rlogin"
	ProtocolTelnet = "telnet"
)

// Errors of Check and Dial, for errors.Is.
var (
	ErrBadServer = errors.New("doorserver: bad server")
	ErrBadCaller = errors.New("doorserver: bad caller")
)

// Server is one door server of the settings.
type Server struct {
	// Name is how scripts name it: 1 to 32 letters, digits, '_' or '-'.
	Name string
	// Title is what a menu shows for it (Name when empty).
	Title string
	// Protocol is ProtocolRLogin (the default) or ProtocolTelnet.
	Protocol string
	// Address is host:port.
	Address string
	// ClientUser, ServerUser and Terminal are the RLogin handshake's
	// fields as templates: {user} is the caller's name, {secret} Secret,
	// {door} the door code the script passed, {terminal} the caller's
	// terminal type. Their defaults: "{secret}", "{user}", "ansi-bbs"
	// (door servers write CP437 ANSI to it). A telnet server gets none of
	// them (its own prompts ask), but its terminal type question is
	// answered with Terminal's.
	ClientUser, ServerUser, Terminal string
	// Secret is the password the network gave this board.
	Secret string
	// Charset is what the server writes in: CharsetCP437 (when empty) or
	// CharsetUTF8.
	Charset string
	// OutputRate bounds how fast its output is read, in bytes a second
	// (DefaultOutputRate when zero).
	OutputRate int
}

// The character sets a door server may write in.
const (
	CharsetCP437 = "cp437"
	CharsetUTF8  = "utf-8"
)

// Caller is who is dialling, and where to.
type Caller struct {
	// User is the caller's name on this board.
	User string
	// Terminal is their terminal type ("ansi-bbs", "xterm"; "ansi" when
	// empty).
	Terminal string
	// Door is the door code the script passed ("" for none).
	Door string
}

// withDefaults fills the templates a sysop left out.
func (s Server) withDefaults() Server {
	s.Protocol = cmp.Or(s.Protocol, ProtocolRLogin)
	s.ClientUser = cmp.Or(s.ClientUser, "{secret}")
	s.ServerUser = cmp.Or(s.ServerUser, "{user}")
	s.Terminal = cmp.Or(s.Terminal, "ansi-bbs")
	s.Charset = cmp.Or(s.Charset, CharsetCP437)
	return s
}

// Check says whether s can be dialled.
func (s Server) Check() error {
	s = s.withDefaults()
	if !validName(s.Name, 32) {
		return fmt.Errorf("%w: name %q must be 1 to 32 letters, digits, '_' or '-'", ErrBadServer, s.Name)
	}
	if s.Protocol != ProtocolRLogin && s.Protocol != ProtocolTelnet {
		return fmt.Errorf("%w: %s: protocol %q is neither rlogin nor telnet", ErrBadServer, s.Name, s.Protocol)
	}
	if s.Charset != CharsetCP437 && s.Charset != CharsetUTF8 {
		return fmt.Errorf("%w: %s: charset %q is neither cp437 nor utf-8", ErrBadServer, s.Name, s.Charset)
	}
	if _, _, err := net.SplitHostPort(s.Address); err != nil {
		return fmt.Errorf("%w: %s: address %q is not host:port", ErrBadServer, s.Name, s.Address)
	}
	return nil
}

// validName reports whether name is 1 to max letters, digits, '_' or '-'.
func validName(name string, max int) bool {
	if name == "" || len(name) > max {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Handshake is the RLogin handshake s sends for c.
func (s Server) Handshake(c Caller) (rlogin.Handshake, error) {
	s = s.withDefaults()
	if c.User == "" || strings.ContainsFunc(c.User, isControl) {
		return rlogin.Handshake{}, fmt.Errorf("%w: name %q", ErrBadCaller, c.User)
	}
	if c.Door != "" && !validName(c.Door, MaxDoorCode) {
		return rlogin.Handshake{}, fmt.Errorf("%w: door code %q must be 1 to %d letters, digits, '_' or '-'", ErrBadCaller, c.Door, MaxDoorCode)
	}
	fill := s.filler(c)
	h := rlogin.Handshake{ClientUser: fill.Replace(s.ClientUser), ServerUser: fill.Replace(s.ServerUser), Terminal: fill.Replace(s.Terminal), Speed: 38400}
	if len(h.ClientUser) > rlogin.MaxClientUser || len(h.ServerUser) > rlogin.MaxServerUser || len(h.Terminal) > rlogin.MaxTerminal {
		return rlogin.Handshake{}, fmt.Errorf("%w: %s: the handshake for %s is longer than RLogin allows", ErrBadCaller, s.Name, c.User)
	}
	return h, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// filler fills s's templates for c.
func (s Server) filler(c Caller) *strings.Replacer {
	term := c.Terminal
	if term == "" || strings.ContainsFunc(term, isControl) || strings.Contains(term, "/") {
		term = "ansi"
	}
	return strings.NewReplacer("{user}", c.User, "{secret}", s.Secret, "{door}", c.Door, "{terminal}", term)
}

// terminalFor is the terminal type s is told for c: Terminal filled in
// (the secret never: a telnet server gets no credentials).
func (s Server) terminalFor(c Caller) string {
	s = s.withDefaults()
	s.Secret = ""
	term := s.filler(c).Replace(s.Terminal)
	if len(term) > rlogin.MaxTerminal || strings.ContainsFunc(term, isControl) {
		return "ansi"
	}
	return term
}

// DialError is a call to a door server that could not be made: Dial's
// error, and the error of the first Read or Write of a stream Open made.
type DialError struct {
	Server string // the server's name
	Err    error  // an *rlogin.RefusedError when the server refused
}

func (e *DialError) Error() string { return "doorserver: " + e.Server + ": " + e.Err.Error() }

func (e *DialError) Unwrap() error { return e.Err }

// Why says what went wrong in words for the caller: the server's own
// words if it refused, else that it cannot be reached (never its
// address).
func (e *DialError) Why() string {
	var r *rlogin.RefusedError
	if errors.As(e.Err, &r) {
		return "the door server refused the call: " + strings.TrimRight(r.Message, ".")
	}
	return "the door server cannot be reached just now"
}

// Dial calls s for c and returns the stream of the call: the server's
// output to read, the caller's keys to write. A call that cannot be made
// is a *DialError (wrapping an *rlogin.RefusedError when the server
// refused). ctx bounds the dial (and DialTimeout).
func (s Server) Dial(ctx context.Context, c Caller) (io.ReadWriteCloser, error) {
	s = s.withDefaults()
	if err := s.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	if s.Protocol == ProtocolTelnet {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", s.Address)
		if err != nil {
			return nil, &DialError{Server: s.Name, Err: err}
		}
		return newTelnetStream(nc, s.terminalFor(c)), nil
	}
	h, err := s.Handshake(c)
	if err != nil {
		return nil, err
	}
	nc, err := rlogin.Dial(ctx, s.Address, h)
	if err != nil {
		return nil, &DialError{Server: s.Name, Err: err}
	}
	return nc, nil
}
