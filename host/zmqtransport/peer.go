package zmqtransport

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/pebbe/zmq4"
)

// Watching the peer. A handler connects to its front end; when the front
// end's process ends, every caller's connection ends with it, and a new
// front end starts numbering its callers again. With HandlerConfig.PeerGone
// set, the receiving socket is watched with a ZeroMQ socket monitor, and
// when its connection to the front end drops, the note PeerGone(at) makes
// is delivered on Messages, in order: every message before it came from
// the front end that went away; any message after it may come from a new
// one. (A peer that is not up yet when the handler starts is no drop: a
// handler restarted while its front end kept running hears nothing.)

// watchPeer makes the monitor of s.in, before it connects: a PAIR socket
// on which the connection's events arrive.
func (s *sockets) watchPeer() (*zmq4.Socket, error) {
	endpoint := "inproc://zmqtransport-monitor-" + rand.Text()
	if err := s.in.Monitor(endpoint, zmq4.EVENT_DISCONNECTED); err != nil {
		return nil, fmt.Errorf("zmqtransport: monitor: %w", err)
	}
	mon, err := s.newSocket(zmq4.PAIR)
	if err != nil {
		return nil, err
	}
	if err := mon.Connect(endpoint); err != nil {
		return nil, fmt.Errorf("zmqtransport: connect monitor %s: %w", endpoint, err)
	}
	return mon, nil
}

// peerEvents reads the monitor's pending events without waiting and
// delivers a note for each drop. It reports false when the goroutine must
// end (the transport is closing).
func (t *Transport) peerEvents(mon *zmq4.Socket) bool {
	if mon == nil {
		return true
	}
	for {
		ev, addr, _, err := mon.RecvEvent(zmq4.DONTWAIT)
		if err != nil {
			if !wouldBlock(err) && !retryable(err) {
				t.fatal("monitor", err)
			}
			return true
		}
		if ev != zmq4.EVENT_DISCONNECTED {
			continue
		}
		t.peerDrops.Add(1)
		t.log.Warn("front end went away: its callers are gone", "addr", addr)
		select {
		case t.msgs <- t.peerGone(time.Now()):
		case <-t.done:
			return false
		}
	}
}

// PeerDrops counts how often the front end's connection dropped (with
// HandlerConfig.PeerGone set).
func (t *Transport) PeerDrops() uint64 { return t.peerDrops.Load() }

// StopReceiving closes the receiving socket at once, so that the front end
// keeps what its callers send for the handler that comes next (Mongrel2
// and the built-in front end hold requests while no handler is connected)
// instead of handing it to one that is stopping; Messages is closed. Send
// goes on working until Close. It is how a host that is asked to stop
// leaves no line typed meanwhile unanswered.
func (t *Transport) StopReceiving() { t.wakeReceiver() }

// wakeReceiver tells the receiving goroutine to stop; it may be called from
// any goroutine, any number of times.
func (t *Transport) wakeReceiver() {
	t.stopMu.Lock()
	defer t.stopMu.Unlock()
	if t.stopRecv != nil {
		// If the goroutine has already ended, this fails harmlessly.
		_, _ = t.stopRecv.SendBytes([]byte{0}, zmq4.DONTWAIT)
	}
}

// Flush waits up to timeout until every message Send queued before it has
// been handed to ZeroMQ, and reports whether that happened. The handler's
// reply socket lingers up to FlushLinger at Close for ZeroMQ to write them.
func (t *Transport) Flush(timeout time.Duration) bool {
	if timeout <= 0 {
		return false
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	done := make(chan struct{})
	select {
	case t.flushes <- done:
	case <-t.sendStopped:
		return false
	case <-timer.C:
		return false
	}
	select {
	case <-done:
		return true
	case <-t.sendStopped:
		return false
	case <-timer.C:
		return false
	}
}

// FlushLinger is how long the handler's reply socket keeps unsent replies
// at Close (ZeroMQ's linger): long enough to write what Flush handed over,
// short enough not to hold a stopping host up when the front end is gone.
const FlushLinger = 250 * time.Millisecond
