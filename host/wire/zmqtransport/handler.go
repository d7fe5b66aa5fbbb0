package zmqtransport

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pebbe/zmq4"
)

// HandlerConfig configures the handler side of a Mongrel2 connection.
type HandlerConfig struct {
	// SendSpec is Mongrel2's send_spec, where requests come from; a PULL
	// socket connects to it.
	SendSpec string
	// RecvSpec is Mongrel2's recv_spec, where replies go; an XPUB socket
	// connects to it.
	RecvSpec string
	// Identity, if set, is the PULL socket's ZeroMQ identity (Mongrel2
	// configurations conventionally use the handler's send_ident).
	Identity string
	// SendHWM is the high-water mark of both sockets; 0 means DefaultHWM.
	SendHWM int
	// SendTimeout bounds how long Send waits for room in a full queue; 0
	// means DefaultSendTimeout.
	SendTimeout time.Duration
	// Context, if set, is the ZeroMQ context to create sockets in (needed
	// for inproc endpoints shared with another transport). The transport
	// does not terminate it: close every transport before terminating it.
	// If nil, the transport makes its own context and terminates it on
	// Close.
	Context *zmq4.Context
	// Log receives the transport's logs; nil discards them.
	Log *slog.Logger
	// PeerGone, if set, makes the note Messages delivers, in order with
	// the messages, when the connection to the front end drops (its
	// process ended, and its callers with it); see peer.go. Nil: the peer
	// is not watched.
	PeerGone func(at time.Time) []byte
}

// DialHandler connects to Mongrel2 (or to a ListenServer) as a handler: a
// PULL socket connects to cfg.SendSpec and an XPUB socket to cfg.RecvSpec.
// Both connections are made in the background and re-made by ZeroMQ after
// the peer restarts, so DialHandler succeeds before the peer is up; wait on
// Subscribed before relying on replies being delivered.
func DialHandler(cfg HandlerConfig) (*Transport, error) {
	log := cfg.Log
	if log != nil {
		log = log.With("side", "handler", "send_spec", cfg.SendSpec, "recv_spec", cfg.RecvSpec)
	}
	s, err := newSockets(cfg.Context, log, cfg.SendHWM, cfg.SendTimeout)
	if err != nil {
		return nil, err
	}
	if err := s.dialHandler(cfg); err != nil {
		s.abort()
		return nil, err
	}
	return s.start()
}

func (s *sockets) dialHandler(cfg HandlerConfig) error {
	in, err := s.newSocket(zmq4.PULL)
	if err != nil {
		return err
	}
	if err := in.SetRcvhwm(s.hwm); err != nil {
		return fmt.Errorf("zmqtransport: set rcvhwm: %w", err)
	}
	if cfg.Identity != "" {
		if err := in.SetIdentity(cfg.Identity); err != nil {
			return fmt.Errorf("zmqtransport: set identity: %w", err)
		}
	}
	if cfg.PeerGone != nil {
		s.in, s.peerGone = in, cfg.PeerGone
		if s.mon, err = s.watchPeer(); err != nil {
			return err
		}
	}
	if err := in.Connect(cfg.SendSpec); err != nil {
		return fmt.Errorf("zmqtransport: connect %s: %w", cfg.SendSpec, err)
	}

	out, err := s.newSocket(zmq4.XPUB)
	if err != nil {
		return err
	}
	if err := out.SetSndhwm(s.hwm); err != nil {
		return fmt.Errorf("zmqtransport: set sndhwm: %w", err)
	}
	if err := out.SetLinger(FlushLinger); err != nil {
		return fmt.Errorf("zmqtransport: set linger: %w", err)
	}
	// Queue replies only on a live connection: when the front end goes,
	// what libzmq held for it is dropped with the connection instead of
	// going to the next front end, whose callers reuse the old conn ids.
	if err := out.SetImmediate(true); err != nil {
		return fmt.Errorf("zmqtransport: set immediate: %w", err)
	}
	// Refuse (and let us count) a message at the high-water mark instead of
	// dropping it silently.
	if err := out.SetXpubNodrop(true); err != nil {
		return fmt.Errorf("zmqtransport: set xpub nodrop: %w", err)
	}
	if err := out.Connect(cfg.RecvSpec); err != nil {
		return fmt.Errorf("zmqtransport: connect %s: %w", cfg.RecvSpec, err)
	}
	s.in, s.out, s.xpub = in, out, true
	return nil
}
