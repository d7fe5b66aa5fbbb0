package sshgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"golang.org/x/crypto/ssh"
)

// guestNames are the SSH user names that always reach the board's own
// login prompt, with any password or none, to register or to log in
// there: the conventions of other boards.
var guestNames = []string{"new", "bbs"}

// GuestNames returns the user names that land at the board's prompt.
func GuestNames() []string { return append([]string(nil), guestNames...) }

// Verdict is what an Authenticator says of a name and password.
type Verdict uint8

// Verdicts of Authenticator.CheckPassword.
const (
	// Refused: a wrong password, a banned account, or a throttled
	// attempt. The client may try again (up to MaxAuthTries).
	Refused Verdict = iota
	// Member: the password is right; the call logs in as the account.
	Member
	// Stranger: no account has that name; the caller meets the board's
	// own prompt to register.
	Stranger
)

// Authenticator checks an SSH caller's name and password against the
// board's accounts. peer is the caller's IP address, for the login
// throttle.
type Authenticator interface {
	// Exists reports whether an account has that name (cheap: no hash).
	Exists(ctx context.Context, name string) (bool, error)
	// CheckPassword checks the password (a bcrypt hash) of an account,
	// counting the attempt in the login throttle; it returns the name as
	// registered with Member. A throttled attempt is Refused with an error
	// saying so.
	CheckPassword(ctx context.Context, name, password, peer string) (registered string, v Verdict, err error)
}

// Extension keys of ssh.Permissions the authentication callbacks leave
// for the session.
const (
	extLogin    = "m2bbs-login" // the account, when the password was right
	extPassword = "m2bbs-password"
)

// errRefused is what a client is told when a login is refused.
var errRefused = errors.New("ssh: login refused")

// isGuest reports whether name is one of GuestNames.
func isGuest(name string) bool {
	for _, g := range guestNames {
		if strings.EqualFold(name, g) {
			return true
		}
	}
	return false
}

// validName reports whether an SSH user name may be looked up: not
// empty, short, and no control characters.
func validName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// noAuth lets the guest names in with no password at all.
func (s *Server) noAuth(conn ssh.ConnMetadata) (*ssh.Permissions, error) {
	if isGuest(conn.User()) {
		return &ssh.Permissions{}, nil
	}
	return nil, errRefused
}

// password is the "password" method.
func (s *Server) password(conn ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	return s.check(conn, string(password))
}

// keyboardInteractive is the "keyboard-interactive" method: a guest gets
// in with no question; anyone else is asked for their password.
func (s *Server) keyboardInteractive(conn ssh.ConnMetadata, client ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
	if isGuest(conn.User()) {
		return &ssh.Permissions{}, nil
	}
	answers, err := client(conn.User(), "", []string{"Password: "}, []bool{false})
	if err != nil {
		return nil, err
	}
	if len(answers) != 1 {
		return nil, errRefused
	}
	return s.check(conn, answers[0])
}

// check decides a name and password: guests and strangers in, to the
// board's prompt; members in, logged in, with the right password.
func (s *Server) check(conn ssh.ConnMetadata, password string) (*ssh.Permissions, error) {
	name := conn.User()
	if isGuest(name) {
		return &ssh.Permissions{}, nil
	}
	if !validName(name) {
		return nil, errRefused
	}
	ctx, cancel := s.authContext(conn)
	defer cancel()
	exists, err := s.cfg.Auth.Exists(ctx, name)
	if err != nil {
		s.log.Warn("ssh: look up an account", "err", err, "remote", conn.RemoteAddr().String())
		return nil, errRefused
	}
	if !exists {
		return &ssh.Permissions{}, nil // a stranger: the board asks and registers
	}
	// The bcrypt hash: at most MaxHashes at once over all connections,
	// none after the connection's handshake deadline.
	select {
	case s.hashes <- struct{}{}:
		defer func() { <-s.hashes }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: busy", errRefused)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w: busy", errRefused)
	}
	registered, v, err := s.cfg.Auth.CheckPassword(ctx, name, password, peerIP(conn.RemoteAddr()))
	switch {
	case err != nil:
		s.noisy.Log(slog.LevelInfo, "ssh: login refused", "name", clip(name), "remote", conn.RemoteAddr().String(), "err", err)
		return nil, errRefused
	case v == Member:
		return &ssh.Permissions{Extensions: map[string]string{extLogin: registered, extPassword: password}}, nil
	case v == Stranger:
		return &ssh.Permissions{}, nil
	}
	s.noisy.Log(slog.LevelInfo, "ssh: login failed: wrong password", "name", clip(name), "remote", conn.RemoteAddr().String())
	return nil, errRefused
}

// clip shortens a name for the log.
func clip(name string) string {
	if len(name) > 64 {
		return name[:64] + "..."
	}
	return name
}
