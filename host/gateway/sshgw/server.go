package sshgw

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/shared/acceptloop"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// Defaults for the zero fields of Config.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultMaxAuthTries     = 3
	DefaultMaxHandshakes    = 64
)

// ServerVersion is the version line the gateway sends.
const ServerVersion = "SSH-2.0-m2bbs"

// Errors New returns, for errors.Is.
var (
	ErrNoCalls    = errors.New("ssh: no Calls server")
	ErrNoHostKeys = errors.New("ssh: no host keys")
	ErrNoAuth     = errors.New("ssh: no Authenticator")
)

// Algorithms the gateway offers, in order of preference: modern ones
// first, then what older BBS terminals (SyncTERM's cryptlib, NetRunner)
// need: diffie-hellman-group14-sha1 and group-exchange-sha256, AES-CTR,
// HMAC-SHA1 and HMAC-SHA2, and an RSA host key. No CBC, RC4 or 3DES, and
// no diffie-hellman-group1-sha1.
var (
	KeyExchanges = []string{
		ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519, "curve25519-sha256@libssh.org",
		ssh.KeyExchangeECDHP256, ssh.KeyExchangeECDHP384, ssh.KeyExchangeECDHP521,
		ssh.KeyExchangeDHGEXSHA256, ssh.KeyExchangeDH16SHA512, ssh.KeyExchangeDH14SHA256,
		ssh.InsecureKeyExchangeDH14SHA1,
	}
	Ciphers = []string{
		ssh.CipherChaCha20Poly1305, ssh.CipherAES128GCM, ssh.CipherAES256GCM,
		ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR,
	}
	MACs = []string{
		ssh.HMACSHA256ETM, ssh.HMACSHA512ETM, ssh.HMACSHA256, ssh.HMACSHA512, ssh.HMACSHA1,
	}
)

// Config configures a Server. Calls, HostKeys and Auth are required.
type Config struct {
	// Calls renders each caller's session and dials the board for it (a
	// telnet gateway's Server: its Dial, routes, MaxCallers, idle and write
	// timeouts and line limits apply to SSH callers too).
	Calls *telnet.Server
	// HostKeys are the keys the gateway proves itself with (LoadHostKeys).
	HostKeys []ssh.Signer
	// Auth checks names and passwords.
	Auth Authenticator
	// Keys, if set with KeyLoginKey, lets members log in with a public key
	// they registered (keyauth.go): the call then tells the host so with
	// an assertion signed with KeyLoginKey (host/shared/keylogin), and the
	// board skips its login prompts. Without them keys are refused.
	Keys        KeyAuthenticator
	KeyLoginKey keylogin.Key
	// Now is the clock assertions are signed with (time.Now when nil).
	Now func() time.Time
	// Log receives one line per connection refused and warnings
	// (slog.Default if nil).
	Log *slog.Logger

	// HandshakeTimeout bounds the SSH handshake, the login and the
	// opening of the session, from the TCP connection on
	// (DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// MaxAuthTries bounds the login attempts of one connection
	// (DefaultMaxAuthTries).
	MaxAuthTries int
	// MaxHandshakes bounds the connections not yet logged in, over all
	// addresses (DefaultMaxHandshakes); past it a new connection is closed.
	MaxHandshakes int
	// MaxHandshakesPerAddr bounds the connections not yet logged in of
	// one IPv4 address or IPv6 /64 (DefaultMaxHandshakesPerAddr; with the
	// per-address limits off, PerAddr.MaxPerAddr negative, it is
	// MaxHandshakes), so that a few addresses cannot hold all of
	// MaxHandshakes.
	MaxHandshakesPerAddr int
	// MaxHashes bounds the password hashes run at once (when 0, one less
	// than GOMAXPROCS, at least 1: the host's hash pool's default), so
	// that hashing leaves a CPU to the callers.
	MaxHashes int
	// PerAddr bounds the connections of one address: open at once, and
	// new ones per second (netlimit's defaults for zero fields; negative:
	// off).
	PerAddr netlimit.Limits
}

func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxAuthTries <= 0 {
		c.MaxAuthTries = DefaultMaxAuthTries
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = DefaultMaxHandshakes
	}
	switch {
	case c.MaxHandshakesPerAddr > 0:
	case c.PerAddr.MaxPerAddr < 0: // per-address limits off (a bench, a test)
		c.MaxHandshakesPerAddr = c.MaxHandshakes
	default:
		c.MaxHandshakesPerAddr = DefaultMaxHandshakesPerAddr
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxHashes <= 0 {
		c.MaxHashes = max(runtime.GOMAXPROCS(0)-1, 1)
	}
	c.PerAddr = c.PerAddr.WithDefaults()
	return c
}

// Server is the SSH gateway. Its methods are safe for concurrent use.
type Server struct {
	cfg        Config
	log        *slog.Logger
	noisy      *lograte.Limiter // log lines an attacker can cause at will
	addrs      *netlimit.Limiter
	handshakes chan struct{} // a slot per connection not yet logged in
	pending    pendingByAddr // those slots, by address
	hashes     chan struct{} // a slot per password hash running
	ssh        *ssh.ServerConfig
	// deadlines are the handshake deadlines of the connections in their
	// handshake, by remote address, for the login callbacks, which get
	// only a connection's metadata (authContext).
	deadlines sync.Map // string → time.Time
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Calls == nil:
		return nil, ErrNoCalls
	case len(cfg.HostKeys) == 0:
		return nil, ErrNoHostKeys
	case cfg.Auth == nil:
		return nil, ErrNoAuth
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Log, noisy: lograte.New(cfg.Log, 0, 0), addrs: netlimit.New(cfg.PerAddr, nil),
		handshakes: make(chan struct{}, cfg.MaxHandshakes), hashes: make(chan struct{}, cfg.MaxHashes)}
	sc := &ssh.ServerConfig{
		Config:                      ssh.Config{KeyExchanges: KeyExchanges, Ciphers: Ciphers, MACs: MACs},
		MaxAuthTries:                cfg.MaxAuthTries,
		NoClientAuth:                true,
		NoClientAuthCallback:        s.noAuth,
		PasswordCallback:            s.password,
		KeyboardInteractiveCallback: s.keyboardInteractive,
		ServerVersion:               ServerVersion,
	}
	if cfg.Keys != nil && len(cfg.KeyLoginKey) > 0 {
		sc.PublicKeyCallback = s.publicKey
		sc.VerifiedPublicKeyCallback = s.verifiedKey
	}
	for _, k := range cfg.HostKeys {
		sc.AddHostKey(k)
	}
	s.ssh = sc
	return s, nil
}

// Serve accepts SSH callers on ln and serves each until ctx is done, then
// closes ln, hangs up on every caller it accepted and returns nil. It
// returns an error if accepting fails for good.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return acceptloop.Serve(ctx, ln, s.log, "ssh", s.ServeConn)
}

// ServeConn serves one SSH connection until the call ends or ctx is done,
// and closes it. The handshake and the login run here, on the
// connection's own goroutine.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	verdict, release := s.addrs.Admit(nc.RemoteAddr())
	if verdict != netlimit.Admitted {
		s.noisy.Warn("ssh: caller refused", "reason", verdict.String(), "remote", nc.RemoteAddr().String(),
			"max_per_addr", s.cfg.PerAddr.MaxPerAddr, "accept_rate", s.cfg.PerAddr.AcceptRate)
		return
	}
	defer release()
	key, ok := s.pending.take(nc.RemoteAddr(), s.cfg.MaxHandshakesPerAddr)
	if !ok {
		s.noisy.Warn("ssh: caller refused: too many handshakes under way from this address", "remote", nc.RemoteAddr().String(),
			"max_handshakes_per_addr", s.cfg.MaxHandshakesPerAddr)
		return
	}
	select {
	case s.handshakes <- struct{}{}:
	default:
		s.pending.release(key)
		s.noisy.Warn("ssh: caller refused: too many handshakes under way", "remote", nc.RemoteAddr().String(), "max_handshakes", s.cfg.MaxHandshakes)
		return
	}
	handshaking := true
	done := func() {
		if handshaking {
			handshaking = false
			<-s.handshakes
			s.pending.release(key)
		}
	}
	defer done()
	// Stopping the server ends a connection at any stage, the handshake
	// included.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	deadline := time.Now().Add(s.cfg.HandshakeTimeout)
	_ = nc.SetDeadline(deadline)
	addr := nc.RemoteAddr().String()
	s.deadlines.Store(addr, deadline)
	sconn, chans, reqs, err := ssh.NewServerConn(nc, s.ssh)
	s.deadlines.CompareAndDelete(addr, deadline)
	if err != nil {
		s.noisy.Log(slog.LevelInfo, "ssh: handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs)
	log := s.log.With("remote", nc.RemoteAddr().String())

	// The session channel must be open by the deadline too; then the
	// connection is the call's, with no deadline but the call's own.
	var sess *session
	for sess == nil {
		newCh, ok := <-chans
		if !ok {
			return
		}
		if newCh.ChannelType() != "session" {
			_ = newCh.Reject(ssh.Prohibited, "only a terminal session is offered")
			continue
		}
		ch, chReqs, err := newCh.Accept()
		if err != nil {
			return
		}
		sess = newSession(s, sconn, ch, chReqs, log)
	}
	go rejectChannels(chans)
	if !sess.waitShell(deadline) {
		log.Info("ssh: no shell: the session closed, or none was asked for in time")
		return
	}
	_ = nc.SetDeadline(time.Time{})
	done()
	sess.serve(ctx)
}

// rejectChannels refuses every further channel of a connection: one
// session is all a caller gets.
func rejectChannels(chans <-chan ssh.NewChannel) {
	for newCh := range chans {
		_ = newCh.Reject(ssh.Prohibited, "one session per connection")
	}
}

// peerIP is the IP address of addr, as a string.
func peerIP(addr net.Addr) string {
	s := addr.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}

// authContext is the context of a login callback for conn: it ends at
// the connection's handshake deadline, so that neither a wait for the
// hash pool nor a store call outlives it (HandshakeTimeout from now if
// the deadline is not known).
func (s *Server) authContext(conn ssh.ConnMetadata) (context.Context, context.CancelFunc) {
	if d, ok := s.deadlines.Load(conn.RemoteAddr().String()); ok {
		return context.WithDeadline(context.Background(), d.(time.Time))
	}
	return context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
}
