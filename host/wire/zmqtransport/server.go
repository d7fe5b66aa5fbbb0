package zmqtransport

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pebbe/zmq4"
)

// ServerConfig configures the server side, the part Mongrel2 plays.
type ServerConfig struct {
	// SendSpec is where requests go out: a PUSH socket binds it.
	SendSpec string
	// RecvSpec is where replies come in: a SUB socket, subscribed to every
	// message, binds it.
	RecvSpec string
	// SendHWM is the high-water mark of both sockets; 0 means DefaultHWM.
	SendHWM int
	// SendTimeout bounds how long Send waits for room in a full queue; 0
	// means DefaultSendTimeout. A PUSH holds messages while no handler is
	// connected, so the queue fills when nobody reads.
	SendTimeout time.Duration
	// Context, if set, is the ZeroMQ context to create sockets in (needed
	// for inproc endpoints shared with another transport). The transport
	// does not terminate it: close every transport before terminating it.
	// If nil, the transport makes its own context and terminates it on
	// Close.
	Context *zmq4.Context
	// Log receives the transport's logs; nil discards them.
	Log *slog.Logger
}

// ListenServer binds the server side: a PUSH socket on cfg.SendSpec and a
// SUB socket on cfg.RecvSpec. Binding fails at once if an address is taken.
// Its Subscribed channel is closed from the start.
func ListenServer(cfg ServerConfig) (*Transport, error) {
	log := cfg.Log
	if log != nil {
		log = log.With("side", "server", "send_spec", cfg.SendSpec, "recv_spec", cfg.RecvSpec)
	}
	s, err := newSockets(cfg.Context, log, cfg.SendHWM, cfg.SendTimeout)
	if err != nil {
		return nil, err
	}
	if err := s.listenServer(cfg); err != nil {
		s.abort()
		return nil, err
	}
	return s.start()
}

func (s *sockets) listenServer(cfg ServerConfig) error {
	out, err := s.newSocket(zmq4.PUSH)
	if err != nil {
		return err
	}
	if err := out.SetSndhwm(s.hwm); err != nil {
		return fmt.Errorf("zmqtransport: set sndhwm: %w", err)
	}
	if err := out.Bind(cfg.SendSpec); err != nil {
		return fmt.Errorf("zmqtransport: bind %s: %w", cfg.SendSpec, err)
	}

	in, err := s.newSocket(zmq4.SUB)
	if err != nil {
		return err
	}
	if err := in.SetRcvhwm(s.hwm); err != nil {
		return fmt.Errorf("zmqtransport: set rcvhwm: %w", err)
	}
	if err := in.SetSubscribe(""); err != nil {
		return fmt.Errorf("zmqtransport: subscribe: %w", err)
	}
	if err := in.Bind(cfg.RecvSpec); err != nil {
		return fmt.Errorf("zmqtransport: bind %s: %w", cfg.RecvSpec, err)
	}
	s.in, s.out = in, out
	return nil
}
