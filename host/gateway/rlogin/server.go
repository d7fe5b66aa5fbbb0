package rlogin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/acceptloop"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// DefaultHandshakeTimeout is how long a new connection has to send its
// whole handshake (Config.HandshakeTimeout).
const DefaultHandshakeTimeout = 10 * time.Second

// What a refused connection is told, after RLogin's error byte (1).
const (
	refusedBoard    = "m2bbs: this board does not serve doors to %q. Ask its sysop to add your board.\r\n"
	refusedAuth     = "m2bbs: board %q is refused: wrong secret or an address it does not call from.\r\n"
	refusedUser     = "m2bbs: the user must be BOARD:NAME, NAME 1 to %d letters, digits, '_', '-' or '.'.\r\n"
	refusedBusy     = "m2bbs: too many calls from your address. Call again later.\r\n"
	refusedProtocol = "m2bbs: this port speaks RLogin (RFC 1282).\r\n"
)

// Errors New returns, for errors.Is.
var (
	ErrNoCalls = errors.New("rlogin: no Calls server")
	ErrNoKey   = errors.New("rlogin: no key to vouch for callers with")
)

// Config configures a Server. Calls and Key are required.
type Config struct {
	// Calls renders each accepted call and dials the board for it (the
	// telnet gateway's renderer, as for SSH: telnet.Server.NewCall). Its
	// MaxCallers bounds the RLogin callers served at once.
	Calls *telnet.Server
	// Key signs the assertion each call's "connect" carries
	// (keylogin.RemoteCallerWire): the host, given the same key, learns
	// the caller's "board:user" from it and from nothing else.
	Key keylogin.Key
	// Boards are the remote boards that may call (each Board.Check'ed).
	Boards []Board
	// HandshakeTimeout bounds the wait for the handshake
	// (DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// PerAddr bounds the calls of one address (netlimit's defaults for
	// zero fields; negative: off).
	PerAddr netlimit.Limits
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives one line per call (slog.Default if nil).
	Log *slog.Logger
}

// Server is the RLogin gateway: other boards' callers, calling in to
// play this board's doors. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	boards map[string]Board // by lower-case name
	addrs  *netlimit.Limiter
	noisy  *lograte.Limiter
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Calls == nil {
		return nil, ErrNoCalls
	}
	if len(cfg.Key) == 0 {
		return nil, ErrNoKey
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	boards := make(map[string]Board, len(cfg.Boards))
	for _, b := range cfg.Boards {
		if err := b.Check(); err != nil {
			return nil, err
		}
		key := strings.ToLower(b.Name)
		if _, dup := boards[key]; dup {
			return nil, fmt.Errorf("%w: %s is named twice", ErrBadBoard, b.Name)
		}
		boards[key] = b
	}
	return &Server{cfg: cfg, boards: boards, addrs: netlimit.New(cfg.PerAddr.WithDefaults(), nil),
		noisy: lograte.New(cfg.Log, 0, 0)}, nil
}

// Serve accepts RLogin connections on ln until ctx is done, then closes
// ln, hangs up on every caller and returns nil; or returns an error if
// accepting fails for good.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return acceptloop.Serve(ctx, ln, s.cfg.Log, "rlogin", s.ServeConn)
}

// ServeConn serves one RLogin connection: the handshake within
// HandshakeTimeout, the board's admission, then the call, until it ends
// or ctx is done. It closes nc.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	verdict, release := s.addrs.Admit(nc.RemoteAddr())
	if verdict != netlimit.Admitted {
		s.noisy.Warn("rlogin: caller refused", "reason", verdict.String(), "remote", nc.RemoteAddr().String())
		refuse(nc, refusedBusy)
		return
	}
	defer release()
	h, rest, err := readHandshake(nc, time.Now().Add(s.cfg.HandshakeTimeout))
	if err != nil {
		s.noisy.Warn("rlogin: no handshake", "remote", nc.RemoteAddr().String(), "err", err)
		var he *HandshakeError
		if errors.As(err, &he) {
			refuse(nc, refusedProtocol)
		}
		return
	}
	name, why := s.admit(nc.RemoteAddr(), h)
	if why != "" {
		refuse(nc, why)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	if _, err := nc.Write([]byte{0}); err != nil { // RFC 1282: the handshake is taken
		return
	}
	s.cfg.Log.Info("rlogin caller accepted", "remote", nc.RemoteAddr().String(), "caller", name, "terminal", h.Terminal, "speed", h.Speed)
	call := s.cfg.Calls.NewCall(&prefixConn{Conn: nc, rest: rest}, telnet.Stream{
		Terminal:  telnet.Terminal{Type: h.Terminal},
		Echo:      true, // an RLogin client's terminal is raw: the server echoes
		Vouch:     func() keylogin.Assertion { return keylogin.Sign(s.cfg.Key, name, s.cfg.Now()) },
		VouchWire: keylogin.RemoteCallerWire,
	})
	call.Serve(ctx)
}

// admit checks a handshake from remote against the boards: it returns
// the caller's name ("board:user"), or what to tell a refused caller.
// The secret is never logged.
func (s *Server) admit(remote net.Addr, h Handshake) (name, refusal string) {
	boardName, user, ok := strings.Cut(h.ServerUser, store.RemoteSeparator)
	log := s.noisy
	addr := addrOf(remote)
	b, known := s.boards[strings.ToLower(boardName)]
	switch {
	case !ok:
		log.Warn("rlogin: refused: no board in the user name", "remote", remote.String(), "user", h.ServerUser)
		return "", fmt.Sprintf(refusedUser, store.MaxNameLen-MaxBoardName-1)
	case !known:
		log.Warn("rlogin: refused: unknown board", "remote", remote.String(), "board", boardName)
		return "", fmt.Sprintf(refusedBoard, boardName)
	case !b.admits(addr, h.ClientUser):
		log.Warn("rlogin: refused: wrong secret or address", "remote", remote.String(), "board", b.Name,
			"secret_given", h.ClientUser != "")
		return "", fmt.Sprintf(refusedAuth, b.Name)
	}
	name, err := store.RemoteName(b.Name, strings.ReplaceAll(user, " ", "_"))
	if err != nil {
		log.Warn("rlogin: refused: bad user name", "remote", remote.String(), "board", b.Name, "user", user, "err", err)
		return "", fmt.Sprintf(refusedUser, store.MaxNameLen-len(b.Name)-1)
	}
	return name, ""
}

// addrOf is remote's IP address (the zero Addr if it has none).
func addrOf(remote net.Addr) netip.Addr {
	if tcp, ok := remote.(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(tcp.IP)
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(remote.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// readHandshake reads from nc until a whole handshake came, by deadline
// and within MaxHandshake bytes; it returns it and the bytes read past
// it (the caller's first keys).
func readHandshake(nc net.Conn, deadline time.Time) (Handshake, []byte, error) {
	_ = nc.SetReadDeadline(deadline)
	buf := make([]byte, 0, MaxHandshake+64)
	for {
		n, err := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		h, used, perr := ParseHandshake(buf)
		if perr == nil {
			return h, append([]byte(nil), buf[used:]...), nil
		}
		if !errors.Is(perr, ErrIncomplete) {
			return Handshake{}, nil, perr
		}
		if err != nil {
			return Handshake{}, nil, fmt.Errorf("rlogin: handshake: %w", err)
		}
		if len(buf) == cap(buf) { // cannot happen: ParseHandshake refuses longer
			return Handshake{}, nil, &HandshakeError{len(buf), "too long"}
		}
	}
}

// refuse tells a refused caller why, after RLogin's error byte, and
// gives the words a second to leave: what the caller sends meanwhile is
// read and dropped, so that closing does not reset the connection before
// they read the words.
func refuse(nc net.Conn, why string) {
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(append([]byte{1}, why...))
	if cw, ok := nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_, _ = io.CopyN(io.Discard, nc, MaxHandshake)
	}
}

// prefixConn is a connection whose first reads return rest (bytes that
// came with the handshake).
type prefixConn struct {
	net.Conn
	rest []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
