package frontend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/acceptloop"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
	"github.com/pebbe/zmq4"
)

// Handler protocols: how the headers of a request are encoded.
const (
	// ProtocolJSON writes headers as a JSON object (Mongrel2's default).
	ProtocolJSON = "json"
	// ProtocolTNetstring writes headers as a tnetstring dict.
	ProtocolTNetstring = "tnetstring"
)

// Mongrel2-like defaults for a zero Limits field.
const (
	// DefaultMaxConns is how many callers may be connected at once.
	// Mongrel2's own ceiling is its file descriptor table (64 Ki); this
	// one keeps memory bounded (about 20 KiB per idle caller).
	DefaultMaxConns = 10_000
	// DefaultMaxQueuedWrites is Mongrel2's DELIVER_OUTSTANDING_MSGS: how
	// many replies may wait for a caller who is not reading, besides the
	// one being written. One more and the caller is closed.
	DefaultMaxQueuedWrites = 16
	// DefaultIdleTimeout closes a caller who has sent no complete message
	// and been sent nothing for this long: Mongrel2's limits.min_ping (120
	// s), which it checks every limits.tick_timer (10 s).
	DefaultIdleTimeout = 120 * time.Second
	// DefaultWriteTimeout bounds one write to a caller. Mongrel2 has none;
	// its idle rule ends a blocked caller after about the same time.
	DefaultWriteTimeout = 120 * time.Second
)

// Errors.
var (
	// ErrBadConfig is wrapped by Listen's errors about its Config.
	ErrBadConfig = errors.New("frontend: bad config")
	// ErrClosed is returned by Serve after Close, or when called twice.
	ErrClosed = errors.New("frontend: server closed")
)

// Handler is one Mongrel2 Handler(): a pair of ZeroMQ sockets the front end
// binds, and how it talks on them.
type Handler struct {
	// SendSpec is where requests go (the front end binds a PUSH socket);
	// RecvSpec is where replies come from (it binds a SUB socket). For
	// inproc:// addresses, share a ZeroMQ context through Config.Context.
	SendSpec, RecvSpec string
	// SendIdent is Mongrel2's send_ident: the first word of every request.
	SendIdent string
	// Protocol is ProtocolJSON (the default when empty) or
	// ProtocolTNetstring.
	Protocol string
	// Base64Payload emulates raw_payload=0: a reply body for a JSON or XML
	// caller is sent base64-encoded (after dropping one trailing NUL), with
	// no NUL after it, as Mongrel2 1.12 does. m2bbs uses the default,
	// raw_payload=1: bodies go to callers byte for byte.
	Base64Payload bool
}

func (h *Handler) headerFormat() m2proto.HeaderFormat {
	if h.Protocol == ProtocolTNetstring {
		return m2proto.TNetstringHeaders
	}
	return m2proto.JSONHeaders
}

// Route sends the frames whose path matches Pattern to Handler. Patterns
// are literal: "@bbs" for JSON-socket messages, "/status" for HTTP,
// "<msg" for XML-socket messages. Several routes may share a Handler; it
// gets one pair of sockets.
type Route struct {
	Pattern string
	Handler *Handler
}

// Limits bound what one caller may cost. A zero field takes its default.
type Limits struct {
	// MaxFrameBytes bounds a JSON or XML frame and an HTTP head
	// (DefaultMaxFrameBytes).
	MaxFrameBytes int
	// MaxBodyBytes bounds an HTTP request body (DefaultMaxBodyBytes).
	MaxBodyBytes int
	// MaxConns bounds connected callers (DefaultMaxConns). Past it, a new
	// connection is accepted and closed at once, without a byte.
	MaxConns int
	// MaxQueuedWrites bounds replies waiting for one caller
	// (DefaultMaxQueuedWrites).
	MaxQueuedWrites int
	// IdleTimeout closes quiet callers (DefaultIdleTimeout); negative
	// disables it.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a caller (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// PerAddr bounds the connections of one address: open at once and
	// accepted per second (netlimit's defaults for zero fields; a negative
	// field is off). Connections handed to ServeConn count under their
	// RemoteAddr if it is an IP. Past it a connection is closed at once,
	// without a byte.
	PerAddr netlimit.Limits
	// FirstFrameTimeout closes a caller who has not completed a first
	// frame this long after connecting (DefaultFirstFrameTimeout;
	// negative: off).
	FirstFrameTimeout time.Duration
	// MaxBadFrames closes a caller whose JSON frames were not JSON this
	// many times (DefaultMaxBadFrames; negative: off); see limits.go.
	MaxBadFrames int
}

func (l Limits) withDefaults() Limits {
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxQueuedWrites <= 0 {
		l.MaxQueuedWrites = DefaultMaxQueuedWrites
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	return l.withAbuseDefaults()
}

// Config configures a Server.
type Config struct {
	// Addr is the TCP address callers connect to, e.g. "127.0.0.1:6767";
	// port 0 picks a free port (see Server.Addr).
	Addr string
	// Routes map frame paths to handlers.
	Routes []Route
	// Limits bound each caller.
	Limits Limits
	// Context, if set, is the ZeroMQ context for the handler sockets
	// (needed for inproc:// with a host in the same process). The server
	// closes its sockets but does not terminate the context.
	Context *zmq4.Context
	// Log receives the server's logs; nil discards them. Logs about one
	// caller carry "conn_id", and every close says why ("reason").
	Log *slog.Logger
	// FirstConnID is the conn id of the first caller; the next ones count
	// up from it. Zero means FirstConnIDNow(): ids that no earlier run of
	// the front end handed out, so that a caller can never be taken for
	// one of a previous run (whose session journal may still be stored).
	FirstConnID uint64
}

// FirstConnIDNow is a first conn id no earlier run of a front end has
// reached: the microseconds since 1970. A run would have to accept more
// than a million callers a second, on average, to reach the ids of a run
// started after it. The ids stay decimal numbers of 16 digits (Mongrel2's
// limit is 20).
func FirstConnIDNow() uint64 { return uint64(time.Now().UnixMicro()) }

// CloseReason says why the front end closed a caller's connection.
type CloseReason int

// The reasons a caller is closed.
const (
	// CloseHangUp: the caller closed the connection (or it failed).
	CloseHangUp CloseReason = iota
	// CloseByHandler: a handler sent an empty reply.
	CloseByHandler
	// CloseBadFrame: bytes Mongrel2 cannot parse; answered 400.
	CloseBadFrame
	// CloseFrameTooLarge: no frame end within MaxFrameBytes; answered 400.
	CloseFrameTooLarge
	// CloseUnknownRoute: no route for the path; answered 404.
	CloseUnknownRoute
	// CloseBodyTooLarge: an HTTP body above MaxBodyBytes, or chunked;
	// answered 413.
	CloseBodyTooLarge
	// CloseExpectation: an HTTP Expect other than 100-continue; answered
	// 417.
	CloseExpectation
	// CloseWebSocket: a WebSocket upgrade, which the built-in front end
	// does not speak; answered 400.
	CloseWebSocket
	// ClosePolicy: a Flash policy request, answered.
	ClosePolicy
	// CloseIdle: nothing received or sent for IdleTimeout.
	CloseIdle
	// CloseSlowReader: more than MaxQueuedWrites replies waiting.
	CloseSlowReader
	// CloseWriteFailed: a write failed or took longer than WriteTimeout.
	CloseWriteFailed
	// CloseTooManyConns: MaxConns callers were already connected.
	CloseTooManyConns
	// CloseShutdown: the server is stopping.
	CloseShutdown
	// CloseTooManyFromAddr: the caller's address had PerAddr.MaxPerAddr
	// connections open already.
	CloseTooManyFromAddr
	// CloseAcceptRate: the caller's address connected faster than
	// PerAddr.AcceptRate.
	CloseAcceptRate
	// CloseNoFirstFrame: no complete frame within FirstFrameTimeout.
	CloseNoFirstFrame
	// CloseMalformedFrames: MaxBadFrames JSON frames that were not JSON;
	// answered 400.
	CloseMalformedFrames

	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{
	CloseHangUp:        "caller hung up",
	CloseByHandler:     "closed by handler",
	CloseBadFrame:      "bad frame",
	CloseFrameTooLarge: "frame too large",
	CloseUnknownRoute:  "unknown route",
	CloseBodyTooLarge:  "body too large",
	CloseExpectation:   "unsupported expectation",
	CloseWebSocket:     "websocket not supported",
	ClosePolicy:        "flash policy answered",
	CloseIdle:          "idle",
	CloseSlowReader:    "write queue full",
	CloseWriteFailed:   "write failed",
	CloseTooManyConns:  "too many connections",
	CloseShutdown:      "shutdown",

	CloseTooManyFromAddr: "too many connections from this address",
	CloseAcceptRate:      "connecting too fast",
	CloseNoFirstFrame:    "no first frame in time",
	CloseMalformedFrames: "too many malformed frames",
}

// String returns the reason in a few words.
func (r CloseReason) String() string {
	if r >= 0 && r < numCloseReasons {
		return closeReasonNames[r]
	}
	return "CloseReason(" + strconv.Itoa(int(r)) + ")"
}

// Stats counts what the server has done.
type Stats struct {
	// ConnsOpen is how many callers are connected now; ConnsTotal how many
	// connections were accepted (those refused past MaxConns included).
	ConnsOpen  int
	ConnsTotal uint64
	// FramesIn counts complete frames and HTTP requests from callers.
	FramesIn uint64
	// RequestsOut counts requests pushed to handlers; Pings counts JSON
	// pings, which Mongrel2 swallows.
	RequestsOut, Pings uint64
	// RepliesIn counts messages from handlers; BadReplies those that did
	// not parse and were dropped.
	RepliesIn, BadReplies uint64
	// WritesOut counts reply bodies written to callers.
	WritesOut uint64
	// UnknownTargets counts reply targets that were not connected (each
	// answered with a disconnect notice, as Mongrel2 does).
	UnknownTargets uint64
	// DisconnectsOut counts disconnect notices pushed to handlers.
	DisconnectsOut uint64
	// DroppedMessages counts messages for handlers that the transport
	// refused (its queue stayed full: no handler reading).
	DroppedMessages uint64
	// Closed counts closed connections by reason.
	Closed map[CloseReason]uint64
}

type counters struct {
	connsTotal, framesIn, requestsOut, pings       atomic.Uint64
	repliesIn, badReplies, writesOut               atomic.Uint64
	unknownTargets, disconnectsOut, droppedMessage atomic.Uint64
	closed                                         [numCloseReasons]atomic.Uint64
}

// handlerLink is one Handler's pair of sockets.
type handlerLink struct {
	h    *Handler
	t    *zmqtransport.Transport
	log  *slog.Logger
	sent atomic.Uint64 // messages its transport took (Server.Sent)
}

// Server is the built-in front end: it accepts callers on a TCP port and
// plays Mongrel2's part towards the handlers. Create it with Listen, run it
// with Serve.
type Server struct {
	limits Limits
	log    *slog.Logger
	addrs  *netlimit.Limiter // per-address limits (limits.go)
	noisy  *lograte.Limiter  // log lines an attacker can cause at will
	ln     net.Listener
	routes routeTable
	order  []*routeTarget // the routes, in Config.Routes order (RoutesOf)
	links  []*handlerLink
	stats  counters

	mu           sync.Mutex
	conns        map[uint64]*conn
	nextID       uint64
	shuttingDown bool
	connWG       sync.WaitGroup

	serving      atomic.Bool
	served       chan struct{} // closed when Serve returns
	stop         chan struct{} // closed by Close
	stopOnce     sync.Once
	shutdownOnce sync.Once
}

// Listen checks cfg, binds each handler's ZeroMQ sockets and the TCP port,
// and returns a Server ready to Serve. On error nothing stays bound.
func Listen(cfg Config) (*Server, error) {
	if len(cfg.Routes) == 0 {
		return nil, fmt.Errorf("%w: no routes", ErrBadConfig)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		limits: cfg.Limits.withDefaults(),
		log:    log,
		noisy:  lograte.New(log, 0, 0),
		conns:  make(map[uint64]*conn),
		nextID: firstConnID(cfg.FirstConnID) - 1,
		served: make(chan struct{}),
		stop:   make(chan struct{}),
	}
	linkOf := map[*Handler]*handlerLink{}
	specs := map[string]bool{}
	fail := func(err error) (*Server, error) {
		for _, l := range s.links {
			l.t.Close()
		}
		return nil, err
	}
	for i, r := range cfg.Routes {
		if err := checkRoute(r); err != nil {
			return fail(fmt.Errorf("%w: route %d: %v", ErrBadConfig, i, err))
		}
		if l := linkOf[r.Handler]; l != nil {
			s.addRoute(newRouteTarget(r.Pattern, l))
			continue
		}
		for _, spec := range []string{r.Handler.SendSpec, r.Handler.RecvSpec} {
			if specs[spec] {
				return fail(fmt.Errorf("%w: address %s used twice", ErrBadConfig, spec))
			}
			specs[spec] = true
		}
		hlog := log.With("send_ident", r.Handler.SendIdent)
		t, err := zmqtransport.ListenServer(zmqtransport.ServerConfig{
			SendSpec: r.Handler.SendSpec,
			RecvSpec: r.Handler.RecvSpec,
			Context:  cfg.Context,
			Log:      hlog,
		})
		if err != nil {
			return fail(fmt.Errorf("frontend: handler %s: %w", r.Handler.SendIdent, err))
		}
		l := &handlerLink{h: r.Handler, t: t, log: hlog}
		linkOf[r.Handler] = l
		s.links = append(s.links, l)
		s.addRoute(newRouteTarget(r.Pattern, l))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(fmt.Errorf("frontend: listen: %w", err))
	}
	s.ln = ln
	s.addrs = netlimit.New(s.limits.PerAddr, nil)
	return s, nil
}

// addRoute adds r to the route table (a later equal pattern replaces an
// earlier one, as in Mongrel2) and to the routes' order.
func (s *Server) addRoute(r *routeTarget) {
	s.routes.insert(r)
	s.order = slices.DeleteFunc(s.order, func(o *routeTarget) bool { return o.pattern == r.pattern })
	s.order = append(s.order, r)
}

// firstConnID is the first conn id of a server configured with first.
func firstConnID(first uint64) uint64 {
	if first == 0 {
		return FirstConnIDNow()
	}
	return first
}

func checkRoute(r Route) error {
	switch {
	case r.Pattern == "":
		return errors.New("empty pattern")
	case strings.ContainsAny(r.Pattern, "( \x00"):
		return fmt.Errorf("pattern %q: only literal prefixes are supported", r.Pattern)
	case r.Handler == nil:
		return fmt.Errorf("pattern %q: no handler", r.Pattern)
	}
	h := r.Handler
	switch {
	case h.SendSpec == "" || h.RecvSpec == "":
		return fmt.Errorf("pattern %q: handler needs a send and a recv spec", r.Pattern)
	case h.SendSpec == h.RecvSpec:
		return fmt.Errorf("pattern %q: send and recv spec are both %s", r.Pattern, h.SendSpec)
	case h.SendIdent == "" || strings.ContainsAny(h.SendIdent, " \t\r\n\x00"):
		return fmt.Errorf("pattern %q: send ident %q must be one non-empty word", r.Pattern, h.SendIdent)
	case h.Protocol != "" && h.Protocol != ProtocolJSON && h.Protocol != ProtocolTNetstring:
		return fmt.Errorf("pattern %q: protocol %q is neither %q nor %q", r.Pattern, h.Protocol, ProtocolJSON, ProtocolTNetstring)
	}
	return nil
}

// Addr returns the address callers connect to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts callers and relays between them and the handlers until ctx
// is done or Close is called, then closes every connection and socket and
// returns. It returns nil after a clean stop, an error if accepting failed,
// ErrClosed if the server was already serving or closed.
func (s *Server) Serve(ctx context.Context) error {
	select {
	case <-s.stop:
		return ErrClosed
	default:
	}
	if !s.serving.CompareAndSwap(false, true) {
		return ErrClosed
	}
	defer close(s.served)

	var wg sync.WaitGroup
	acceptErr := make(chan error, 1)
	wg.Go(func() { acceptErr <- s.acceptLoop() })
	for _, l := range s.links {
		wg.Go(func() { s.dispatch(l) })
	}
	var err error
	select {
	case <-ctx.Done():
	case <-s.stop:
	case err = <-acceptErr:
	}
	s.shutdown()
	wg.Wait()
	return err
}

// Close stops a serving Server and waits for Serve to return, or releases
// the sockets of one that never served. It is idempotent.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.serving.Load() {
		<-s.served
	} else {
		s.shutdown()
	}
	return nil
}

// shutdown closes the listener, every connection and then the handler
// sockets, in that order, so no goroutine is left behind.
func (s *Server) shutdown() {
	s.shutdownOnce.Do(func() {
		s.stopOnce.Do(func() { close(s.stop) }) // ends what waits for a held route's release
		s.ln.Close()
		s.mu.Lock()
		s.shuttingDown = true
		conns := make([]*conn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.close(CloseShutdown, false)
		}
		s.connWG.Wait()
		for _, l := range s.links {
			if err := l.t.Close(); err != nil {
				s.log.Warn("close handler sockets", "send_ident", l.h.SendIdent, "err", err)
			}
		}
	})
}

// acceptLoop accepts callers until the listener is closed.
func (s *Server) acceptLoop() error {
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if acceptloop.Temporary(err) {
				backoff = acceptloop.Backoff(backoff)
				s.log.Warn("accept", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.stop:
				}
				continue
			}
			return fmt.Errorf("frontend: accept: %w", err)
		}
		backoff = 0
		s.startConn(nc)
	}
}

// startConn registers a new caller and starts its two goroutines, or
// closes the connection at once past MaxConns.
func (s *Server) startConn(nc net.Conn) {
	s.stats.connsTotal.Add(1)
	s.mu.Lock()
	if s.shuttingDown {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.limits.MaxConns {
		s.mu.Unlock()
		nc.Close()
		if n := s.stats.closed[CloseTooManyConns].Add(1); n&(n-1) == 0 {
			s.log.Warn("caller refused", "reason", CloseTooManyConns.String(), "max_conns", s.limits.MaxConns, "refused_total", n)
		}
		return
	}
	release, verdict := s.admitAddr(nc)
	if release == nil {
		s.mu.Unlock()
		s.refuseAddr(nc, verdict)
		return
	}
	s.nextID++
	c := newConn(s, s.nextID, nc)
	c.release = release
	s.conns[c.id] = c
	s.connWG.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// ErrNoSuchRoute is returned by Reroute and Hold for a pattern that is not
// one of the server's routes.
var ErrNoSuchRoute = errors.New("frontend: no such route")

// ErrHeld is returned by Hold for a route held already.
var ErrHeld = errors.New("frontend: route held already")

// ErrNoSuchHandler is returned by Reroute and Sent for a send_ident that
// is not one of the server's handlers.
var ErrNoSuchHandler = errors.New("frontend: no such handler")

// Reroute sends what callers send on route pattern to the handler whose
// SendIdent is sendIdent from now on: how a sysop drains a phone line onto
// another while its callers stay connected (their next message reaches the
// other handler, whose host has taken their sessions over). pattern must
// be a route given to Listen, sendIdent one of its handlers'.
func (s *Server) Reroute(pattern, sendIdent string) error {
	from := s.routes.match(pattern)
	if from == nil || from.pattern != pattern {
		return fmt.Errorf("%w: %q", ErrNoSuchRoute, pattern)
	}
	l := s.linkOf(sendIdent)
	if l == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchHandler, sendIdent)
	}
	from.handler.Store(l)
	s.log.Info("route moved", "pattern", pattern, "send_ident", sendIdent)
	return nil
}

// RoutesOf returns the patterns of the routes that lead to the handler
// whose SendIdent is sendIdent now, in the order of Config.Routes: what a
// drain of that handler's line moves.
func (s *Server) RoutesOf(sendIdent string) []string {
	var out []string
	for _, r := range s.order {
		if r.handler.Load().h.SendIdent == sendIdent {
			out = append(out, r.pattern)
		}
	}
	return out
}

// linkOf returns the link of the handler whose SendIdent is sendIdent, or
// nil.
func (s *Server) linkOf(sendIdent string) *handlerLink {
	for _, l := range s.links {
		if l.h.SendIdent == sendIdent {
			return l
		}
	}
	return nil
}

// Hold keeps what callers send on the routes patterns from their
// handlers until release is called: each caller's reader waits before
// passing a message on such a route, so what they type meanwhile waits,
// in order, in the kernel's buffers, and goes on after release to the
// handler serving the route then. A message on its way to a handler when
// Hold is called has been given to the handler's transport when Hold
// returns, so Sent counts it. How a drain moves callers without a line
// overtaking another (dispatch.Drain). A held caller's hang-up is seen
// when their reader reads on, after the release; the notice of one seen
// meanwhile (one who had typed nothing since the hold) waits for the
// release, to go to the handler the route leads to then. release may be
// called more than once. A route already held is refused (ErrHeld), and
// nothing is held.
func (s *Server) Hold(patterns ...string) (release func(), err error) {
	var routes []*routeTarget
	for _, p := range patterns {
		r := s.routes.match(p)
		if r == nil || r.pattern != p {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchRoute, p)
		}
		routes = append(routes, r)
	}
	var held []*routeTarget
	undo := func() {
		for _, r := range held {
			r.gate.Lock()
			close(r.held)
			r.held = nil
			r.gate.Unlock()
		}
	}
	for _, r := range routes {
		if slices.Contains(held, r) {
			continue // named twice
		}
		r.gate.Lock()
		busy := r.held != nil
		if !busy {
			r.held = make(chan struct{})
		}
		r.gate.Unlock()
		if busy {
			undo()
			return nil, fmt.Errorf("%w: %q", ErrHeld, r.pattern)
		}
		held = append(held, r)
	}
	s.log.Info("routes held", "patterns", patterns)
	var once sync.Once
	return func() {
		once.Do(func() {
			undo()
			s.log.Info("routes released", "patterns", patterns)
		})
	}, nil
}

// Sent returns how many messages the front end has given, so far, to the
// transport of the handler whose SendIdent is sendIdent: callers' requests
// and disconnect notices. With that handler's routes held (Hold), a host
// that has taken that many from its transport has everything sent to it
// before the hold.
func (s *Server) Sent(sendIdent string) (uint64, error) {
	l := s.linkOf(sendIdent)
	if l == nil {
		return 0, fmt.Errorf("%w: %q", ErrNoSuchHandler, sendIdent)
	}
	return l.sent.Load(), nil
}

// ServeConn serves nc as one more caller, exactly as if it had been
// accepted on the listening port: it gets a conn_id, its frames go to the
// handlers and their replies come back on it. Gateways that translate
// another protocol (telnet, WebSocket) hand it one end of a net.Pipe; if
// nc's RemoteAddr is a *net.TCPAddr its IP becomes the caller's
// REMOTE_ADDR. It returns at once; the connection is served until either
// side closes it or the server stops. On a stopped server nc is closed.
func (s *Server) ServeConn(nc net.Conn) {
	s.startConn(nc)
}

func (s *Server) unregister(id uint64) {
	s.mu.Lock()
	delete(s.conns, id)
	s.mu.Unlock()
}

func (s *Server) lookup(id uint64) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// dispatch delivers one handler's replies until its sockets close.
func (s *Server) dispatch(l *handlerLink) {
	for msg := range l.t.Messages() {
		s.stats.repliesIn.Add(1)
		_, ids, body, err := m2proto.ParseReply(msg)
		if err != nil {
			s.stats.badReplies.Add(1)
			l.log.Warn("reply dropped", "err", err)
			continue
		}
		for _, idText := range ids {
			id, err := strconv.ParseUint(idText, 10, 64)
			var c *conn
			if err == nil {
				c = s.lookup(id)
				idText = strconv.FormatUint(id, 10)
			}
			if c == nil {
				// Mongrel2 answers a reply to a caller who is gone with a
				// disconnect notice (src/handler.c, Handler_task).
				s.stats.unknownTargets.Add(1)
				l.log.Debug("reply to a caller who is not connected", "conn_id", idText)
				s.notify(l, idText)
				continue
			}
			c.deliver(l, body)
		}
	}
}

// notify pushes a disconnect notice for connID to l's handler.
func (s *Server) notify(l *handlerLink, connID string) {
	s.stats.disconnectsOut.Add(1)
	s.send(l, appendDisconnect(nil, l.h, connID))
}

// send pushes msg to l's handler, counting what the transport refuses.
func (s *Server) send(l *handlerLink, msg []byte) {
	if err := l.t.Send(msg); err != nil {
		s.stats.droppedMessage.Add(1)
		l.log.Warn("message to handler dropped", "err", err)
		return
	}
	l.sent.Add(1)
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	open := len(s.conns)
	s.mu.Unlock()
	st := Stats{
		ConnsOpen:       open,
		ConnsTotal:      s.stats.connsTotal.Load(),
		FramesIn:        s.stats.framesIn.Load(),
		RequestsOut:     s.stats.requestsOut.Load(),
		Pings:           s.stats.pings.Load(),
		RepliesIn:       s.stats.repliesIn.Load(),
		BadReplies:      s.stats.badReplies.Load(),
		WritesOut:       s.stats.writesOut.Load(),
		UnknownTargets:  s.stats.unknownTargets.Load(),
		DisconnectsOut:  s.stats.disconnectsOut.Load(),
		DroppedMessages: s.stats.droppedMessage.Load(),
		Closed:          make(map[CloseReason]uint64),
	}
	for r := range s.stats.closed {
		if n := s.stats.closed[r].Load(); n > 0 {
			st.Closed[CloseReason(r)] = n
		}
	}
	return st
}
