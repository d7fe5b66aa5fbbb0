package zmqtransport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pebbe/zmq4"
)

// ErrClosed is returned by Send after Close, or after the sending socket
// failed.
var ErrClosed = errors.New("zmqtransport: closed")

// ErrQueueFull is returned by Send when its message could not be queued
// within the configured SendTimeout. The message is counted in
// Stats.Dropped.
var ErrQueueFull = errors.New("zmqtransport: send queue full")

const (
	// DefaultHWM is the high-water mark used when a config leaves SendHWM at
	// 0: how many messages ZeroMQ buffers per peer and direction. ZeroMQ's
	// own default of 1,000 made a PUB drop most of a burst.
	DefaultHWM = 100_000

	// DefaultSendTimeout is how long Send waits for room in a full queue
	// when a config leaves SendTimeout at 0.
	DefaultSendTimeout = time.Second

	// QueueLength is how many messages Send can queue ahead of the sending
	// goroutine.
	QueueLength = 1024

	// messagesLength is the buffer of the Messages channel.
	messagesLength = 1024
)

// Stats counts a Transport's messages.
type Stats struct {
	// Received counts messages read from the receiving socket.
	Received uint64
	// Sent counts messages handed to ZeroMQ for sending.
	Sent uint64
	// Dropped counts messages given to Send that were not sent: refused
	// because the queue stayed full, refused by an XPUB at its high-water
	// mark, sent while the handler side's peer had unsubscribed (ZeroMQ
	// discards those) or had gone away (PeerStats.AwayDropped), or still
	// queued at Close.
	Dropped uint64
}

// Transport is one side of a handler connection. Its methods are safe for
// concurrent use.
type Transport struct {
	log         *slog.Logger
	ctx         *zmq4.Context
	ownCtx      bool
	sendTimeout time.Duration

	queue       chan []byte
	flushes     chan chan struct{} // Flush's requests to the sending goroutine
	msgs        chan []byte
	subscribed  chan struct{}
	done        chan struct{} // closed by Close
	sendStopped chan struct{} // closed when the sending goroutine ends

	mu     sync.RWMutex // held for writing only to set closed
	closed bool

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup

	// The far ends of each goroutine's stop socket: stopSend is used only
	// by Close, stopRecv by Close and StopReceiving, under stopMu (nil once
	// closed).
	stopRecv, stopSend *zmq4.Socket
	stopMu             sync.Mutex

	// peerGone makes the note delivered when the peer goes away (nil: the
	// peer is not watched); see peer.go.
	peerGone func(at time.Time) []byte

	received, sent, dropped, peerDrops atomic.Uint64
	monitorErrors, awayDropped         atomic.Uint64
	// away is set from a drop of the peer until ResumeSending (peer.go).
	away atomic.Bool
}

// sockets are what the constructors hand to newTransport.
type sockets struct {
	in, out   *zmq4.Socket
	mon       *zmq4.Socket // the monitor of in, or nil
	peerGone  func(at time.Time) []byte
	xpub      bool // out is an XPUB whose subscriptions matter
	all       []*zmq4.Socket
	ctx       *zmq4.Context
	ownCtx    bool
	log       *slog.Logger
	hwm       int
	sendLimit time.Duration
}

func (s *sockets) newSocket(kind zmq4.Type) (*zmq4.Socket, error) {
	sock, err := s.ctx.NewSocket(kind)
	if err != nil {
		return nil, fmt.Errorf("zmqtransport: new %v socket: %w", kind, err)
	}
	s.all = append(s.all, sock)
	if err := sock.SetLinger(0); err != nil {
		return nil, fmt.Errorf("zmqtransport: set linger: %w", err)
	}
	return sock, nil
}

// abort closes every socket made so far and the context if it is ours.
func (s *sockets) abort() {
	for _, sock := range s.all {
		sock.Close()
	}
	if s.ownCtx {
		s.ctx.Term()
	}
}

// newSockets prepares the shared parts of both constructors.
func newSockets(ctx *zmq4.Context, log *slog.Logger, hwm int, sendTimeout time.Duration) (*sockets, error) {
	s := &sockets{ctx: ctx, log: log, hwm: hwm, sendLimit: sendTimeout}
	if s.ctx == nil {
		c, err := zmq4.NewContext()
		if err != nil {
			return nil, fmt.Errorf("zmqtransport: new context: %w", err)
		}
		s.ctx, s.ownCtx = c, true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hwm <= 0 {
		s.hwm = DefaultHWM
	}
	if s.sendLimit <= 0 {
		s.sendLimit = DefaultSendTimeout
	}
	return s, nil
}

// start builds the Transport around s.in and s.out and starts its two
// goroutines. On error every socket is closed.
func (s *sockets) start() (*Transport, error) {
	t := &Transport{
		log:         s.log,
		ctx:         s.ctx,
		ownCtx:      s.ownCtx,
		sendTimeout: s.sendLimit,
		queue:       make(chan []byte, QueueLength),
		flushes:     make(chan chan struct{}),
		msgs:        make(chan []byte, messagesLength),
		subscribed:  make(chan struct{}),
		done:        make(chan struct{}),
		sendStopped: make(chan struct{}),
		peerGone:    s.peerGone,
	}
	recvStop, stopRecv, err := s.stopPair("recv")
	if err != nil {
		s.abort()
		return nil, err
	}
	sendStop, stopSend, err := s.stopPair("send")
	if err != nil {
		s.abort()
		return nil, err
	}
	t.stopRecv, t.stopSend = stopRecv, stopSend
	if !s.xpub {
		close(t.subscribed)
	}
	t.wg.Add(2)
	go t.receive(s.in, recvStop, s.mon)
	go t.transmit(s.out, sendStop, s.xpub)
	return t, nil
}

// stopPair makes a connected pair of inproc PAIR sockets: the goroutine
// polls the first, Close writes to the second.
func (s *sockets) stopPair(which string) (*zmq4.Socket, *zmq4.Socket, error) {
	endpoint := "inproc://zmqtransport-stop-" + which + "-" + rand.Text()
	inner, err := s.newSocket(zmq4.PAIR)
	if err != nil {
		return nil, nil, err
	}
	if err := inner.Bind(endpoint); err != nil {
		return nil, nil, fmt.Errorf("zmqtransport: bind %s: %w", endpoint, err)
	}
	outer, err := s.newSocket(zmq4.PAIR)
	if err != nil {
		return nil, nil, err
	}
	if err := outer.Connect(endpoint); err != nil {
		return nil, nil, fmt.Errorf("zmqtransport: connect %s: %w", endpoint, err)
	}
	return inner, outer, nil
}

// Messages returns the channel of received messages. It is closed after
// Close, or when the receiving socket fails.
func (t *Transport) Messages() <-chan []byte { return t.msgs }

// Subscribed returns a channel that is closed once replies can reach the
// peer. On the handler side that is when the peer's subscription has
// arrived on the XPUB socket (a PUB drops everything sent before that: the
// "slow joiner" problem); until then Send queues messages without sending
// them. On the server side it is closed from the start.
func (t *Transport) Subscribed() <-chan struct{} { return t.subscribed }

// Stats returns the transport's counters.
func (t *Transport) Stats() Stats {
	return Stats{Received: t.received.Load(), Sent: t.sent.Load(), Dropped: t.dropped.Load()}
}

// Send queues msg for the sending goroutine and returns without waiting for
// it to be sent. The transport owns msg afterwards: don't change it. When the
// queue is full Send waits up to the configured SendTimeout for room, then
// gives up with ErrQueueFull (and counts the message as dropped), so it
// never blocks for long. After Close, or once the sending socket has failed,
// it returns ErrClosed.
func (t *Transport) Send(msg []byte) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return ErrClosed
	}
	select {
	case <-t.sendStopped:
		return ErrClosed
	default:
	}
	if t.dropAway() {
		return nil
	}
	select {
	case t.queue <- msg:
		return nil
	default:
	}
	timer := time.NewTimer(t.sendTimeout)
	defer timer.Stop()
	select {
	case t.queue <- msg:
		return nil
	case <-t.done:
		return ErrClosed
	case <-t.sendStopped:
		return ErrClosed
	case <-timer.C:
		t.dropped.Add(1)
		return ErrQueueFull
	}
}

// Close stops both goroutines, closes every socket and, unless the context
// was given in the config, terminates the context. Messages still queued are
// discarded (and counted as dropped); Messages() is closed. Close is
// idempotent and safe to call from several goroutines.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()

		// Wake goroutines blocked in a ZeroMQ poll. If one has already
		// ended, its send fails harmlessly.
		t.wakeReceiver()
		t.stopSend.SendBytes([]byte{0}, zmq4.DONTWAIT)
		t.wg.Wait()
		t.stopMu.Lock()
		t.stopRecv.Close()
		t.stopRecv = nil
		t.stopMu.Unlock()
		t.stopSend.Close()

		for drained := false; !drained; {
			select {
			case <-t.queue:
				t.dropped.Add(1)
			default:
				drained = true
			}
		}
		if t.ownCtx {
			if err := t.ctx.Term(); err != nil {
				t.closeErr = fmt.Errorf("zmqtransport: close: %w", err)
			}
		}
	})
	return t.closeErr
}

// receive owns the receiving socket and its monitor (if any): it polls
// them and the stop socket, and hands every message to t.msgs, after the
// note of any drop of the peer reported before it.
func (t *Transport) receive(in, stop, mon *zmq4.Socket) {
	defer t.wg.Done()
	defer close(t.msgs)
	defer in.Close()
	defer stop.Close()
	if mon != nil {
		defer mon.Close()
	}

	poller := zmq4.NewPoller()
	poller.Add(in, zmq4.POLLIN)
	poller.Add(stop, zmq4.POLLIN)
	if mon != nil {
		poller.Add(mon, zmq4.POLLIN)
	}
	for {
		polled, err := poller.PollAll(-1)
		if err != nil {
			if retryable(err) {
				continue
			}
			t.fatal("receive: poll", err)
			return
		}
		if polled[1].Events&zmq4.POLLIN != 0 {
			return
		}
		if !t.peerEvents(mon) {
			return
		}
		if polled[0].Events&zmq4.POLLIN == 0 {
			continue
		}
		for {
			msg, err := in.RecvBytes(zmq4.DONTWAIT)
			if err != nil {
				if wouldBlock(err) {
					// The reader we just woke waits in this P's run
					// queue; a blocking cgo poll would keep it there
					// until the runtime takes the P back (tens of µs).
					runtime.Gosched()
					break
				}
				if retryable(err) {
					continue
				}
				t.fatal("receive", err)
				return
			}
			t.received.Add(1)
			// A drop reported by now may have come before this message:
			// its note goes first (see peer.go).
			if !t.peerEvents(mon) {
				return
			}
			select {
			case t.msgs <- msg:
			case <-t.done:
				return
			}
		}
	}
}

// transmit owns the sending socket. On the handler side it first waits for
// the peer's subscription, then sends whatever Send queues.
func (t *Transport) transmit(out, stop *zmq4.Socket, xpub bool) {
	defer t.wg.Done()
	defer close(t.sendStopped)
	defer out.Close()
	defer stop.Close()

	st := &sendState{out: out, stop: stop, xpub: xpub, topics: map[string]bool{}}
	if xpub && !t.awaitSubscription(st) {
		return
	}
	for {
		select {
		case <-t.done:
			return
		case msg := <-t.queue:
			if !t.transmitOne(st, msg) {
				return
			}
		case done := <-t.flushes:
			if !t.transmitQueued(st) {
				return
			}
			close(done)
		}
	}
}

// transmitOne sends msg, or drops it (counted) when an XPUB has no
// subscriber or the peer went away. It reports false when the goroutine must end.
func (t *Transport) transmitOne(st *sendState, msg []byte) bool {
	if t.dropAway() {
		return true
	}
	if st.xpub {
		t.readSubscriptions(st)
		if len(st.topics) == 0 {
			t.dropped.Add(1) // ZeroMQ would discard it without a word
			return true
		}
	}
	return t.sendOne(st, msg)
}

// transmitQueued sends every message queued so far (for Flush).
func (t *Transport) transmitQueued(st *sendState) bool {
	for {
		select {
		case msg := <-t.queue:
			if !t.transmitOne(st, msg) {
				return false
			}
		default:
			return true
		}
	}
}

// sendState belongs to the sending goroutine.
type sendState struct {
	out, stop *zmq4.Socket
	xpub      bool
	topics    map[string]bool // the XPUB peers' current subscriptions
	hwmWarned bool
}

// awaitSubscription waits until the XPUB reports a subscription. It reports
// false if it was stopped or failed first.
func (t *Transport) awaitSubscription(st *sendState) bool {
	for t.awaitOut(st, zmq4.POLLIN) {
		if t.readSubscriptions(st); len(st.topics) > 0 {
			close(t.subscribed)
			return true
		}
	}
	return false
}

// awaitOut waits until out has the events (POLLIN or POLLOUT). It reports
// false if the transport was stopped or polling failed first.
func (t *Transport) awaitOut(st *sendState, events zmq4.State) bool {
	poller := zmq4.NewPoller()
	poller.Add(st.out, events)
	poller.Add(st.stop, zmq4.POLLIN)
	for {
		polled, err := poller.PollAll(-1)
		if err != nil {
			if retryable(err) {
				continue
			}
			t.fatal("send: poll", err)
			return false
		}
		if polled[1].Events&zmq4.POLLIN != 0 {
			return false
		}
		if polled[0].Events&events != 0 {
			return true
		}
	}
}

// readSubscriptions reads the XPUB's pending subscription messages without
// blocking and updates st.topics. An XPUB reports "\x01topic" when the first
// peer subscribes to a topic and "\x00topic" when the last one leaves it.
func (t *Transport) readSubscriptions(st *sendState) {
	for {
		msg, err := st.out.RecvBytes(zmq4.DONTWAIT)
		if err != nil {
			if !wouldBlock(err) && !retryable(err) {
				t.log.Warn("read subscriptions", "err", err)
			}
			return
		}
		if len(msg) == 0 {
			continue
		}
		before := len(st.topics)
		topic := string(msg[1:])
		if msg[0] == 1 {
			st.topics[topic] = true
		} else {
			delete(st.topics, topic)
		}
		switch after := len(st.topics); {
		case before == 0 && after > 0:
			t.log.Info("peer subscribed", "topic", topic)
		case before > 0 && after == 0:
			t.log.Warn("peer unsubscribed: replies are dropped until it subscribes again", "topic", topic)
		}
	}
}

// sendOne hands msg to ZeroMQ. An XPUB (which has ZMQ_XPUB_NODROP set)
// refuses a message at its high-water mark: that message is dropped and
// counted. A PUSH that cannot send (no peer, or peer at its high-water mark)
// waits until it can or until it is stopped. It reports false when the
// goroutine must end.
func (t *Transport) sendOne(st *sendState, msg []byte) bool {
	for {
		_, err := st.out.SendBytes(msg, zmq4.DONTWAIT)
		switch {
		case err == nil:
			t.sent.Add(1)
			return true
		case retryable(err):
			continue
		case wouldBlock(err) && st.xpub:
			t.dropped.Add(1)
			if !st.hwmWarned {
				st.hwmWarned = true
				t.log.Warn("peer at high-water mark: dropping replies (counted in Stats.Dropped)")
			}
			return true
		case wouldBlock(err):
			if !t.awaitWritable(st) {
				t.dropped.Add(1)
				return false
			}
		default:
			t.dropped.Add(1)
			t.fatal("send", err)
			return false
		}
	}
}

// awaitWritable waits until out can take a message. It reports false if it
// was stopped or failed first.
func (t *Transport) awaitWritable(st *sendState) bool { return t.awaitOut(st, zmq4.POLLOUT) }

// fatal logs a socket error unless the context is being terminated.
func (t *Transport) fatal(op string, err error) {
	if zmq4.AsErrno(err) == zmq4.ETERM {
		return
	}
	t.log.Error("zmq socket failed", "op", op, "err", err)
}

func wouldBlock(err error) bool { return zmq4.AsErrno(err) == zmq4.Errno(syscall.EAGAIN) }

func retryable(err error) bool { return zmq4.AsErrno(err) == zmq4.Errno(syscall.EINTR) }
