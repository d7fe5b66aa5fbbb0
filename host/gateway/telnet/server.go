package telnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/acceptloop"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Defaults for the zero fields of Config.
const (
	DefaultRoute        = "@bbs"
	DefaultMaxLine      = 1024
	DefaultMaxTypeAhead = 4096
	DefaultMaxCallers   = 1000
	DefaultIdleTimeout  = 15 * time.Minute
	DefaultWriteTimeout = 30 * time.Second
)

// DialTimeout bounds each call to Config.Dial.
const DialTimeout = 10 * time.Second

// ReadBufferBytes is the most one read from a telnet caller takes.
const ReadBufferBytes = 4096

// lingerTimeout bounds how long a caller is given to read the last
// output and hang up after the gateway has said goodbye.
const lingerTimeout = 2 * time.Second

// Errors New returns, for errors.Is.
var (
	ErrNoDial   = errors.New("telnet: no Dial function")
	ErrBadRoute = errors.New("telnet: bad route")
)

// Config configures a Server. Only Dial is required.
type Config struct {
	// Dial opens one classic JSON-socket connection to the BBS for the
	// telnet caller at remote: in `m2bbs run`, one end of a net.Pipe whose
	// other end goes to the built-in front end's ServeConn; behind
	// Mongrel2, a TCP connection to its port. ctx ends after DialTimeout
	// or when the server stops. The gateway closes the connection.
	Dial func(ctx context.Context, remote net.Addr) (net.Conn, error)
	// Route is the JSON-socket route callers are sent to (DefaultRoute),
	// such as "@bbs" or a phone line "@bbs.2".
	Route string
	// Routes, if set, are phone lines ("@bbs.1", "@bbs.2", …) to hunt
	// through instead of Route: each call tries them in random order and
	// stays on the first that does not answer with the busy signal.
	Routes []string
	// RawFrames says the BBS sends bare JSON frames instead of base64.
	RawFrames bool
	// PeerKey, if set, makes each request of a call, "connect" and every
	// line, carry the caller's address and this key
	// (classic.AppendGatewayRequest): behind
	// Mongrel2, where the gateway's own connection comes from the
	// loopback address, the host then throttles each caller by their own
	// address. Only a host given the same key believes it.
	PeerKey string
	// Log receives one line per call and warnings (slog.Default if nil).
	Log *slog.Logger

	// MaxLine bounds a typed line in bytes (DefaultMaxLine). Keep it well
	// under the front end's frame limit (4,096 bytes, JSON-escaped).
	MaxLine int
	// MaxTypeAhead bounds input kept while no prompt waits
	// (DefaultMaxTypeAhead); past it keys are dropped with a bell.
	MaxTypeAhead int
	// MaxCallers bounds telnet callers served at once (DefaultMaxCallers);
	// past it a caller is told the lines are busy and hung up on.
	MaxCallers int
	// IdleTimeout hangs up on a caller who has sent nothing for that long
	// (DefaultIdleTimeout); negative disables it.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to the caller or the BBS
	// (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// PerAddr bounds the calls of one address: connected at once, and
	// new ones per second (netlimit's defaults for zero fields; negative:
	// off). Past it the caller is told why and hung up on.
	PerAddr netlimit.Limits
	// FirstInputTimeout hangs up on a caller who has sent nothing this
	// long after connecting (DefaultFirstInputTimeout; negative: off).
	FirstInputTimeout time.Duration
	// NegotiationWait bounds how long a new caller's answers to the
	// opening negotiation (terminal type, window size) are waited for
	// before the BBS is dialled (DefaultNegotiationWait; negative: not
	// at all). A client that answers nothing is waited for 300 ms at most.
	NegotiationWait time.Duration
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Route == "" {
		c.Route = DefaultRoute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxLine <= 0 {
		c.MaxLine = DefaultMaxLine
	}
	if c.MaxTypeAhead <= 0 {
		c.MaxTypeAhead = DefaultMaxTypeAhead
	}
	if c.MaxCallers <= 0 {
		c.MaxCallers = DefaultMaxCallers
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.NegotiationWait == 0 {
		c.NegotiationWait = DefaultNegotiationWait
	}
	if c.FirstInputTimeout == 0 {
		c.FirstInputTimeout = DefaultFirstInputTimeout
	}
	c.PerAddr = c.PerAddr.WithDefaults()
	return c
}

// huntOrder is the order one call tries the routes in.
func (s *Server) huntOrder() []string {
	if len(s.cfg.Routes) == 0 {
		return []string{s.cfg.Route}
	}
	routes := slices.Clone(s.cfg.Routes)
	rand.Shuffle(len(routes), func(i, j int) { routes[i], routes[j] = routes[j], routes[i] })
	return routes
}

// Server is the telnet gateway. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	addrs *netlimit.Limiter // calls per address (limits.go)
	noisy *lograte.Limiter  // log lines an attacker can cause at will

	mu      sync.Mutex
	callers map[*caller]struct{}
}

// CallerInfo describes one connected telnet caller, for a status page.
type CallerInfo struct {
	Remote       string    // the caller's address
	Since        time.Time // when the caller connected
	TerminalType string    // as the client named it; "" if it did not say
	Width        int       // window size in characters; 0 if unknown
	Height       int
	Encoding     termprofile.Encoding // from the terminal type; "" if unknown
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Dial == nil {
		return nil, ErrNoDial
	}
	cfg = cfg.withDefaults()
	for _, r := range append([]string{cfg.Route}, cfg.Routes...) {
		if len(r) < 2 || r[0] != '@' || strings.ContainsAny(r, " \t\r\n\x00") {
			return nil, fmt.Errorf("%w: %q", ErrBadRoute, r)
		}
	}
	return &Server{cfg: cfg, log: cfg.Log, callers: make(map[*caller]struct{}),
		addrs: netlimit.New(cfg.PerAddr, nil), noisy: lograte.New(cfg.Log, 0, 0)}, nil
}

// Serve accepts telnet callers on ln and serves each until ctx is done,
// then closes ln, hangs up on every caller it accepted and returns nil. It
// returns an error if accepting fails for good; callers already connected
// are then hung up on too. Serve may run on several listeners at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return acceptloop.Serve(ctx, ln, s.log, "telnet", s.ServeConn)
}

// ServeConn serves one telnet connection until the call ends or ctx is
// done, and closes it. Serve calls it for each caller it accepts.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	release := s.admit(nc)
	if release == nil {
		return
	}
	defer release()
	c := newCaller(s, nc)
	if !s.register(c) {
		s.log.Warn("telnet: caller refused: too many callers", "remote", nc.RemoteAddr().String(), "max_callers", s.cfg.MaxCallers)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte("All lines are busy. Please call again later.\r\n"))
		nc.Close()
		return
	}
	defer s.unregister(c)
	c.run(ctx)
}

// register adds c to the callers, unless there are MaxCallers already.
func (s *Server) register(c *caller) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.callers) >= s.cfg.MaxCallers {
		return false
	}
	s.callers[c] = struct{}{}
	return true
}

func (s *Server) unregister(c *caller) {
	s.mu.Lock()
	delete(s.callers, c)
	s.mu.Unlock()
}

// Callers describes the telnet callers connected now, in no particular
// order.
func (s *Server) Callers() []CallerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	infos := make([]CallerInfo, 0, len(s.callers))
	for c := range s.callers {
		infos = append(infos, c.info())
	}
	return infos
}
