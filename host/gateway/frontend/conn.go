package frontend

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/chunkwrite"
)

// conn is one caller. Two goroutines serve it: readLoop parses its frames
// and pushes requests to handlers; writeLoop writes what the handlers and
// the front end send it, from a bounded queue, so a caller who does not
// read delays nobody else.
type conn struct {
	s      *Server
	id     uint64
	idText string
	nc     net.Conn
	remote string
	log    *slog.Logger

	queue       chan outgoing // capacity MaxQueuedWrites+1: the last slot is for a final item
	pending     atomic.Int32  // regular items in queue
	finalQueued atomic.Bool
	done        chan struct{} // closed when the connection closes
	closeOnce   sync.Once
	lastActive  atomic.Int64 // unix nanoseconds of the last frame in or write out

	// sendMu orders the requests pushed to handlers and the disconnect
	// notice: none follows it (see forward).
	sendMu sync.Mutex

	mu      sync.Mutex
	route   *routeTarget // the route of the caller's last request
	message bool         // the last frame was JSON or XML (Mongrel2's CONN_TYPE_MSG)

	nchains int // size of Mongrel2's header table on this connection; readLoop only

	// The abuse limits (limits.go): release gives the connection back to
	// the per-address count; the rest is readLoop's.
	release   func()
	accepted  time.Time
	framed    bool // a complete frame has come
	badFrames int  // JSON frames that were not JSON
}

// outgoing is one item of a caller's write queue.
type outgoing struct {
	data   []byte
	reply  bool // a handler's reply (counted in Stats.WritesOut)
	final  bool // close the connection after writing data
	reason CloseReason
	notify bool // on close, send the disconnect notice
}

func newConn(s *Server, id uint64, nc net.Conn) *conn {
	remote := nc.RemoteAddr().String()
	if tcp, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		remote = tcp.IP.String()
	}
	c := &conn{
		s:        s,
		id:       id,
		idText:   strconv.FormatUint(id, 10),
		nc:       nc,
		remote:   remote,
		log:      s.log.With("conn_id", id, "remote", remote),
		queue:    make(chan outgoing, s.limits.MaxQueuedWrites+1),
		done:     make(chan struct{}),
		nchains:  initialChains,
		accepted: time.Now(),
	}
	c.touch()
	return c
}

func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

// lastRoute returns the route of the caller's last request, or nil.
func (c *conn) lastRoute() *routeTarget {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.route
}

// enqueue queues data for the caller. More than MaxQueuedWrites items
// waiting closes the caller, as Mongrel2 does.
func (c *conn) enqueue(data []byte, reply bool) {
	select {
	case <-c.done:
		return
	default:
	}
	if c.pending.Add(1) > int32(c.s.limits.MaxQueuedWrites) {
		c.pending.Add(-1)
		c.close(CloseSlowReader, true)
		return
	}
	c.queue <- outgoing{data: data, reply: reply} // never blocks: see queue
}

// finish queues data as the last thing written before closing. Only the
// first call counts.
func (c *conn) finish(data []byte, reason CloseReason, notify bool) {
	if c.finalQueued.CompareAndSwap(false, true) {
		c.queue <- outgoing{data: data, final: true, reason: reason, notify: notify}
	}
}

// close closes the connection once, logs why and, if notify is set and a
// handler has served the caller, tells the handler serving the route of
// their last request (notifyRoute; Mongrel2's Connection_task tells the
// last handler when a caller's connection ends).
func (c *conn) close(reason CloseReason, notify bool) {
	c.closeOnce.Do(func() {
		// done closes under sendMu, so that no request of the caller is
		// passed on after it (see forward). The notice is sent after
		// sendMu is unlocked: a reader passing a request on holds its
		// route's gate and waits for sendMu, so notifyRoute, which takes
		// the gate, must not be called with sendMu held.
		c.sendMu.Lock()
		close(c.done)
		c.sendMu.Unlock()
		c.s.unregister(c.id)
		if c.release != nil {
			c.release()
		}
		c.s.stats.closed[reason].Add(1)
		route := c.lastRoute()
		notified := notify && route != nil
		if level, limited := closeLevel(reason); limited {
			c.s.noisy.Log(level, "caller closed", "conn_id", c.id, "remote", c.remote, "reason", reason.String(), "handler_notified", notified)
		} else {
			c.log.Log(context.Background(), level, "caller closed", "reason", reason.String(), "handler_notified", notified)
		}
		// Notice first, then close, as Mongrel2 does: when the caller sees
		// the connection end, the handler's notice is already on its way
		// (unless their route is held: then it waits for the release).
		if notified {
			c.notifyRoute(route)
		}
		c.nc.Close()
	})
}

// notifyRoute tells the handler serving route now that the caller hung
// up: the handler that last got a request from them, or, if the route has
// moved since (Server.Reroute), the one it moved to, which took their
// session over. While the route is held (a drain), the notice waits for
// the release, to reach the handler the route goes to then.
func (c *conn) notifyRoute(route *routeTarget) {
	route.gate.RLock()
	held := route.held
	if held == nil {
		c.s.notify(route.handler.Load(), c.idText)
		route.gate.RUnlock()
		return
	}
	route.gate.RUnlock()
	c.s.connWG.Add(1)
	go func() {
		defer c.s.connWG.Done()
		select {
		case <-held:
			c.notifyRoute(route) // under the gate again: another drain may hold it now
		case <-c.s.stop:
		}
	}()
}

// deliver passes one reply body from handler l to the caller.
func (c *conn) deliver(l *handlerLink, body []byte) {
	if len(body) == 0 {
		c.finish(nil, CloseByHandler, false)
		return
	}
	c.mu.Lock()
	message := c.message
	c.mu.Unlock()
	if l.h.Base64Payload && message {
		// src/handler.c: handler_cap_payload, then Connection_deliver.
		if body[len(body)-1] == 0 {
			body = body[:len(body)-1]
		}
		if len(body) == 0 {
			// Mongrel2 fails to write the empty result and drops the caller.
			c.finish(nil, CloseByHandler, false)
			return
		}
		body = base64.StdEncoding.AppendEncode(nil, body)
	}
	c.enqueue(body, true)
}

// writeLoop writes the queue to the caller.
func (c *conn) writeLoop() {
	defer c.s.connWG.Done()
	for {
		var m outgoing
		select {
		case <-c.done:
			return
		case m = <-c.queue:
		}
		if !m.final {
			c.pending.Add(-1)
		}
		if len(m.data) > 0 {
			// Counted before the write, so that a caller who has read the
			// reply can never observe a count that lacks it; undone if
			// the write fails. Written in chunks, each within
			// WriteTimeout: a big screen reaches a slow caller who keeps
			// reading (chunkwrite).
			if m.reply {
				c.s.stats.writesOut.Add(1)
			}
			// Touched before the write as well as after: a read deadline
			// that fires while the write is under way must not find the
			// caller idle (they may already be reading what it wrote).
			c.touch()
			if _, err := chunkwrite.Write(c.nc, m.data, c.s.limits.WriteTimeout); err != nil {
				if m.reply {
					c.s.stats.writesOut.Add(^uint64(0))
				}
				select {
				case <-c.done: // closed meanwhile
				default:
					c.log.Debug("write failed", "err", err)
					c.close(CloseWriteFailed, true)
				}
				return
			}
			c.touch()
		}
		if m.final {
			c.close(m.reason, m.notify)
			return
		}
	}
}

// readLoop reads the caller's frames until the connection ends.
func (c *conn) readLoop() {
	defer c.s.connWG.Done()
	fr := NewFrameReader(c.nc, c.s.limits.MaxFrameBytes)
	for {
		c.armReadDeadline()
		f, err := fr.Next()
		if err != nil {
			if c.readFailed(err) {
				return
			}
			continue
		}
		c.touch()
		c.s.stats.framesIn.Add(1)
		if !c.admitFrame(&f) || !c.handle(&f, fr) {
			return
		}
	}
}

// armReadDeadline makes a read fail when the caller has been idle for
// IdleTimeout.
func (c *conn) armReadDeadline() {
	deadline := c.firstFrameDeadline()
	if c.s.limits.IdleTimeout >= 0 {
		idle := time.Unix(0, c.lastActive.Load()).Add(c.s.limits.IdleTimeout)
		if deadline.IsZero() || idle.Before(deadline) {
			deadline = idle
		}
	}
	if !deadline.IsZero() {
		_ = c.nc.SetReadDeadline(deadline)
	}
}

// readFailed handles a read error and reports whether reading must stop.
func (c *conn) readFailed(err error) bool {
	var fe *FrameError
	switch {
	case errors.As(err, &fe):
		reason := CloseBadFrame
		if errors.Is(err, ErrFrameTooLarge) {
			reason = CloseFrameTooLarge
		}
		c.log.Debug("bad frame", "err", err)
		c.finish(respBadRequest, reason, true)
	case errors.Is(err, os.ErrDeadlineExceeded):
		if first := c.firstFrameDeadline(); !first.IsZero() && !time.Now().Before(first) {
			c.close(CloseNoFirstFrame, true)
			return true
		}
		if c.s.limits.IdleTimeout < 0 || time.Since(time.Unix(0, c.lastActive.Load())) < c.s.limits.IdleTimeout {
			return false // a write kept the caller alive
		}
		c.close(CloseIdle, true)
	default:
		c.close(CloseHangUp, true)
	}
	return true
}

// handle acts on one frame and reports whether to read on.
func (c *conn) handle(f *Frame, fr *FrameReader) bool {
	if f.Kind == KindPolicy {
		c.finish(respPolicy, ClosePolicy, true)
		return false
	}
	route := c.s.routes.match(f.Path)
	if route == nil {
		c.finish(respNotFound, CloseUnknownRoute, true)
		return false
	}
	var body []byte
	switch f.Kind {
	case KindJSON:
		if isPing(f) {
			c.s.stats.pings.Add(1)
			return true
		}
	case KindHTTP:
		var ok bool
		if body, ok = c.readHTTPBody(f, fr); !ok {
			return false
		}
	}
	if !c.pass(route) {
		return false
	}
	defer route.gate.RUnlock()
	l := route.handler.Load()
	msg, nchains := requestMessage(l.h, f, body, c.idText, route.pattern, c.remote, c.nchains)
	c.nchains = nchains
	c.mu.Lock()
	c.route = route
	c.message = f.Kind != KindHTTP
	c.mu.Unlock()
	return c.forward(l, msg)
}

// pass waits while route is held (Server.Hold) and returns with its gate
// read-locked, for the caller's message to be passed on; it reports false,
// unlocked, if the connection closed meanwhile. A held caller's reader
// stops, so what they type next waits in the kernel's buffers.
func (c *conn) pass(route *routeTarget) bool {
	for {
		route.gate.RLock()
		held := route.held
		if held == nil {
			return true
		}
		route.gate.RUnlock()
		select {
		case <-held:
		case <-c.done:
			return false
		}
	}
}

// forward pushes a request to handler l unless the connection has closed:
// under sendMu, so that no request of the caller follows the disconnect
// notice (the handler takes a request after it for a new caller). It
// reports whether the connection is still open.
func (c *conn) forward(l *handlerLink, msg []byte) bool {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	c.s.stats.requestsOut.Add(1)
	c.s.send(l, msg)
	return true
}

// readHTTPBody answers what Mongrel2 answers before an HTTP body (100
// Continue, 417, 413) and reads the body. It reports false when the
// connection is done.
func (c *conn) readHTTPBody(f *Frame, fr *FrameReader) ([]byte, bool) {
	if isWebSocket(f) {
		c.finish(respBadRequest, CloseWebSocket, true)
		return nil, false
	}
	if expect, ok := f.Header("expect"); ok {
		if expect != "100-continue" {
			c.finish(respExpectationFailed, CloseExpectation, true)
			return nil, false
		}
		c.enqueue(respContinue, false)
	}
	n := f.ContentLength()
	if n == -1 || n > int64(c.s.limits.MaxBodyBytes) {
		c.finish(respTooLarge, CloseBodyTooLarge, true)
		return nil, false
	}
	if n <= 0 {
		return nil, true
	}
	c.armReadDeadline()
	body, err := fr.ReadBody(int(n))
	if err != nil { // what was read of the body is lost: stop here
		reason := CloseHangUp
		if errors.Is(err, os.ErrDeadlineExceeded) {
			reason = CloseIdle
		}
		c.close(reason, true)
		return nil, false
	}
	c.framed = true // the first whole message: see admitFrame
	c.touch()
	return body, true
}

// isPing reports whether a JSON frame is one Mongrel2 swallows as a
// keep-alive: its PING_PATTERN, `@[a-z/]- {"type":\s*"ping"}`, matched
// from the frame's start.
func isPing(f *Frame) bool {
	for i := 1; i < len(f.Path); i++ {
		if c := f.Path[i]; (c < 'a' || c > 'z') && c != '/' {
			return false
		}
	}
	rest, ok := strings.CutPrefix(string(f.Body), `{"type":`)
	if !ok {
		return false
	}
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	return strings.HasPrefix(rest, `"ping"}`)
}

// isWebSocket is Mongrel2's test for a WebSocket handshake
// (src/connection.c, Request_is_websocket).
func isWebSocket(f *Frame) bool {
	for _, name := range []string{"sec-websocket-key", "sec-websocket-version", "host"} {
		if _, ok := f.Header(name); !ok {
			return false
		}
	}
	upgrade, ok1 := f.Header("upgrade")
	connection, ok2 := f.Header("connection")
	return ok1 && ok2 && strings.EqualFold(upgrade, "websocket") &&
		strings.Contains(strings.ToLower(connection), "upgrade")
}
