package sshgw

import (
	"context"
	"log/slog"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/shared/authkey"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// KeyAuthenticator checks an SSH caller's public key against the keys
// the board's members registered. peer is the caller's IP address, for
// the login throttle.
type KeyAuthenticator interface {
	// CheckKey says whether name registered the key with that SHA-256
	// fingerprint: Member and the name as registered if so (the attempt is
	// then counted in the login throttle, and refused if the throttle
	// says wait); Refused for an unknown key, a banned account or a
	// throttled attempt (with an error saying why).
	CheckKey(ctx context.Context, name, fingerprint, peer string) (registered string, v Verdict, err error)
	// KeyLoginSucceeded tells the throttle the caller proved the key:
	// their counted attempts are forgotten, as after a right password.
	KeyLoginSucceeded(ctx context.Context, name, peer string) error
}

// extKeyLogin is the Permissions extension naming the account whose key
// the caller offered (and, once the handshake is done, proved).
const extKeyLogin = "m2bbs-key-login"

// publicKey is the "publickey" method's first step: is the key one the
// user registered? The client has not yet proved it holds the key; the
// SSH library checks the signature next and only then calls verifiedKey.
func (s *Server) publicKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	name := conn.User()
	if isGuest(name) || !validName(name) || authkey.Accepted(key) != nil {
		return nil, errRefused
	}
	ctx, cancel := s.authContext(conn)
	defer cancel()
	registered, v, err := s.cfg.Keys.CheckKey(ctx, name, ssh.FingerprintSHA256(key), peerIP(conn.RemoteAddr()))
	if err != nil {
		s.noisy.Log(slog.LevelInfo, "ssh: key login refused", "name", clip(name), "remote", conn.RemoteAddr().String(), "err", err)
		return nil, errRefused
	}
	if v != Member {
		return nil, errRefused
	}
	return &ssh.Permissions{Extensions: map[string]string{extKeyLogin: registered}}, nil
}

// verifiedKey runs once the client proved it holds the key publicKey
// accepted: the login throttle forgets the caller's attempts.
func (s *Server) verifiedKey(conn ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	name := perms.Extensions[extKeyLogin]
	ctx, cancel := s.authContext(conn)
	defer cancel()
	if err := s.cfg.Keys.KeyLoginSucceeded(ctx, name, peerIP(conn.RemoteAddr())); err != nil {
		s.log.Warn("ssh: login throttle: could not forget the failed attempts", "name", clip(name), "err", err)
	}
	s.log.Info("ssh: key login", "name", clip(name), "remote", conn.RemoteAddr().String(), "key", ssh.FingerprintSHA256(key))
	return perms, nil
}

// vouchFor returns what the call of a caller logged in by key as name
// sends with its "connect": a fresh assertion for each.
func (s *Server) vouchFor(name string) func() keylogin.Assertion {
	return func() keylogin.Assertion { return keylogin.Sign(s.cfg.KeyLoginKey, name, s.cfg.Now()) }
}
