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
				// A drop may go unnoticed: the sysop must know.
				t.monitorErrors.Add(1)
				t.log.Error("front end monitor failed: a restart of the front end may go unnoticed", "err", err)
			}
			return true
		}
		if ev != zmq4.EVENT_DISCONNECTED {
			continue
		}
		t.peerDrops.Add(1)
		// Replies from now on are for callers who are gone; the next
		// front end could hand their conn ids to others (see Send).
		t.away.Store(true)
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

// PeerStats counts what the peer's watch saw.
type PeerStats struct {
	// Drops counts how often the front end's connection dropped.
	Drops uint64
	// MonitorErrors counts failures to read the socket monitor: a drop
	// may have gone unnoticed.
	MonitorErrors uint64
	// AwayDropped counts replies dropped because the front end they were
	// for had gone (see ResumeSending).
	AwayDropped uint64
}

// PeerStats returns the counters of the peer's watch.
func (t *Transport) PeerStats() PeerStats {
	return PeerStats{Drops: t.peerDrops.Load(), MonitorErrors: t.monitorErrors.Load(), AwayDropped: t.awayDropped.Load()}
}

// Replies to a front end that went away. From the moment the monitor sees
// the drop, every reply given to Send, or still queued, is dropped and
// counted: it answers a caller of the old front end, and the next front
// end would write it to whoever holds that conn id there. The handler's
// reply socket is ZMQ_IMMEDIATE, so libzmq drops what it held for the old
// connection too. The user of Messages calls ResumeSending once it has
// handled the note (forgotten the old callers); replies after that are for
// the new front end's callers.

// ResumeSending lets replies go out again after a front end went away.
func (t *Transport) ResumeSending() { t.away.Store(false) }

// dropAway reports whether msg must be dropped because the front end went
// away, counting it.
func (t *Transport) dropAway() bool {
	if !t.away.Load() {
		return false
	}
	t.dropped.Add(1)
	t.awayDropped.Add(1)
	return true
}
