package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/m2proto"
)

// WebSocket callers. A browser opens a WebSocket on WebSocketPath(line)
// through Mongrel2 (see the WebSockets section of package m2proto for what
// Mongrel2 does), and from then on is an ordinary caller to the sessions:
// its conn id is kept in a set, each text message it sends carries one
// classic JSON request ({"type":"msg","msg":"connect"}…) and is routed as
// if it came over the JSON socket (METHOD "JSON", the path left as the
// WebSocket's), and every reply to it leaves as a text frame holding the
// bare JSON message instead of the classic base64(JSON)+NUL.
//
// The host answers the handshake (101, or 403 for a page of another site
// than the board and Config.WebSocketOrigins: see access.Origins.Check),
// pings (pong) and close frames (close, then hangs up and frees the
// session). It refuses, with a close
// frame, a log line and the session freed: binary messages (1003),
// fragments Mongrel2 did not join (1008), text that is not UTF-8 (1007),
// messages over MaxWebSocketMessage (1009) and bad flags or opcodes
// (1002). Requests above m2proto.MaxMessageBytes never parse and are
// dropped like any bad handler message.
//
// A conn id leaves the set when the caller closes, when the host hangs up
// on it, and on Mongrel2's disconnect notice. Entries Mongrel2 dropped
// without a notice (a caller silent past its limits.min_ping) are swept
// once they have no session and no frame for webSocketForgetAfter. A
// frame from a conn id not in the set (a browser whose handshake the
// previous host process answered) puts it back.
//
// Limits: with phone lines, a host knows only its own WebSocket callers;
// a page, a delivery or a line-down notice it sends to a browser on
// another line goes out in the classic framing, which the browser takes
// for a broken connection.

// WebSocket limits.
const (
	// MaxWebSocketMessage bounds one text message from a browser: one
	// classic JSON request, at most session.Config.MaxLineBytes of text
	// plus the JSON around it.
	MaxWebSocketMessage = 64 << 10
	// webSocketForgetAfter is how long an entry without a session and
	// without frames stays in the set: longer than Mongrel2's min_ping.
	webSocketForgetAfter = 30 * time.Minute
	// webSocketSweepMin is the set size from which adding an entry sweeps
	// stale ones; the next sweep waits until the set has doubled.
	webSocketSweepMin = 64
)

// WebSocketPath is the URL path browsers open a WebSocket on: "/ws/N" for
// line n, "/ws" for n < 1 (the single-host board; with phone lines, an
// alias of line 1, as "@bbs" is).
func WebSocketPath(n int) string {
	if n < 1 {
		return "/ws"
	}
	return "/ws/" + strconv.Itoa(n)
}

// webSockets is the set of conn ids of WebSocket callers; safe for
// concurrent use (the dispatch loop adds, every worker's replies look up).
type webSockets struct {
	mu      sync.Mutex
	seen    map[string]time.Time // conn id -> last frame or handshake
	sweepAt int
	// n is len(seen), so that replies skip the lock when there are no
	// WebSocket callers at all.
	n atomic.Int64
}

// add records connID as a WebSocket caller (again) and reports whether it
// is time to sweep stale entries.
func (s *webSockets) add(connID string, now time.Time) (sweep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
		s.sweepAt = webSocketSweepMin
	}
	s.seen[connID] = now
	s.n.Store(int64(len(s.seen)))
	return len(s.seen) >= s.sweepAt
}

// touch updates connID's last activity and reports whether it is a
// WebSocket caller.
func (s *webSockets) touch(connID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[connID]; !ok {
		return false
	}
	s.seen[connID] = now
	return true
}

// has reports whether connID is a WebSocket caller.
func (s *webSockets) has(connID string) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.seen[connID]
	return ok
}

// forget removes conn ids from the set.
func (s *webSockets) forget(connIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range connIDs {
		delete(s.seen, id)
	}
	s.n.Store(int64(len(s.seen)))
}

// split separates WebSocket callers from the others, keeping the order;
// without WebSocket callers it returns connIDs itself and no copy.
func (s *webSockets) split(connIDs []string) (classic, browsers []string) {
	if s.n.Load() == 0 {
		return connIDs, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range connIDs {
		if _, ok := s.seen[id]; ok {
			browsers = append(browsers, id)
		} else {
			classic = append(classic, id)
		}
	}
	if len(browsers) == 0 {
		return connIDs, nil
	}
	return classic, browsers
}

// idleSince lists the entries without activity since cutoff.
func (s *webSockets) idleSince(cutoff time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, t := range s.seen {
		if t.Before(cutoff) {
			ids = append(ids, id)
		}
	}
	return ids
}

// forgetIdle removes the entries of ids still idle since cutoff, and sets
// the size of the next sweep.
func (s *webSockets) forgetIdle(ids []string, cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if t, ok := s.seen[id]; ok && t.Before(cutoff) {
			delete(s.seen, id)
		}
	}
	s.n.Store(int64(len(s.seen)))
	s.sweepAt = max(webSocketSweepMin, 2*len(s.seen))
}

// len is the number of WebSocket callers known.
func (s *webSockets) len() int { return int(s.n.Load()) }

// handleWebSocket serves req if it is a WebSocket handshake or frame and
// reports whether it did. For other requests it only notes a disconnect
// notice (or a JSON-socket message, if Mongrel2 gave the conn id to a new
// caller) by forgetting the conn id, and returns false.
func (h *Host) handleWebSocket(ctx context.Context, req *m2proto.Request) bool {
	switch {
	case req.IsWebSocketHandshake():
		h.acceptWebSocket(req)
		return true
	case req.IsWebSocketFrame():
		h.serveWebSocketFrame(ctx, req)
		return true
	case req.IsJSON() && h.ws.has(req.ConnID):
		h.ws.forget(req.ConnID)
	}
	return false
}

// acceptWebSocket answers a handshake: 101 and the caller joins the set,
// 403 and a hang-up for a page of another site (see access.Origins.Check),
// or 400 and a hang-up for a request RFC 6455 does not allow. Refusals
// are logged at most once a second (Host.wsRefusals): they cost an
// attacker nothing.
func (h *Host) acceptWebSocket(req *m2proto.Request) {
	if err := h.cfg.WebSocketOrigins.Check(req.Header("origin"), req.Header("host")); err != nil {
		h.unsupported.Add(1)
		h.wsRefusals.Warn(h.log, "websocket: origin refused", "conn_id", req.ConnID, "path", req.Path,
			"remote_addr", req.Header("REMOTE_ADDR"), "host", limitText(req.Header("host"), 256), "err", err)
		h.refuseHandshake(req, http.StatusForbidden, "this board does not take calls from pages of another site\n")
		return
	}
	key := req.Header("sec-websocket-key")
	version := req.Header("sec-websocket-version")
	if !m2proto.ValidWebSocketKey(key) || version != "13" {
		h.unsupported.Add(1)
		// The key is the caller's: its length is enough to tell why.
		h.wsRefusals.Warn(h.log, "websocket: bad handshake", "conn_id", req.ConnID, "path", req.Path,
			"remote_addr", req.Header("REMOTE_ADDR"), "key_bytes", len(key), "version", limitText(version, 16))
		h.refuseHandshake(req, http.StatusBadRequest, "bad websocket handshake\n")
		return
	}
	// Known before the 101 leaves, so that nothing reaches the caller in
	// the classic framing once it speaks WebSocket.
	if h.ws.add(req.ConnID, time.Now()) {
		h.sweepWebSockets()
	}
	body := m2proto.AppendWebSocketHandshake(nil, m2proto.WebSocketAccept(key))
	if err := h.sendVia(h.transport, req.Sender, []string{req.ConnID}, body); err != nil {
		h.ws.forget(req.ConnID)
		h.log.Warn("websocket: handshake reply", "conn_id", req.ConnID, "err", err)
		return
	}
	h.log.Debug("websocket caller", "conn_id", req.ConnID, "path", req.Path, "remote_addr", req.Header("REMOTE_ADDR"))
}

// refuseHandshake answers a handshake with an HTTP error, then hangs up.
func (h *Host) refuseHandshake(req *m2proto.Request, code int, text string) {
	body := m2proto.AppendHTTPResponse(nil, code, "text/plain; charset=utf-8", []byte(text))
	if err := h.sendVia(h.transport, req.Sender, []string{req.ConnID}, body); err == nil {
		_ = h.sendVia(h.transport, req.Sender, []string{req.ConnID}, nil)
	}
}

// serveWebSocketFrame serves one message from a WebSocket caller.
func (h *Host) serveWebSocketFrame(ctx context.Context, req *m2proto.Request) {
	flags, err := req.WebSocketFlags()
	known := h.ws.touch(req.ConnID, time.Now())
	if err != nil {
		if known {
			h.closeWebSocket(ctx, req, m2proto.CloseProtocolError, "bad frame flags")
			return
		}
		h.unsupported.Add(1)
		h.log.Warn("websocket: frame without valid FLAGS", "conn_id", req.ConnID, "err", err)
		return
	}
	if !known {
		h.log.Info("websocket: frame from a caller whose handshake this process did not see", "conn_id", req.ConnID)
		if h.ws.add(req.ConnID, time.Now()) {
			h.sweepWebSockets()
		}
	}
	op := flags.Opcode()
	switch {
	case flags.Reserved() != 0:
		h.closeWebSocket(ctx, req, m2proto.CloseProtocolError, "reserved bits set")
	case op == m2proto.OpContinuation || (!flags.Fin() && !op.IsControl()):
		h.closeWebSocket(ctx, req, m2proto.ClosePolicyViolation, "fragmented messages are not supported")
	case op.IsControl() && (!flags.Fin() || len(req.Body) > m2proto.MaxControlPayload):
		h.closeWebSocket(ctx, req, m2proto.CloseProtocolError, "bad control frame")
	case op == m2proto.OpText:
		h.webSocketText(ctx, req)
	case op == m2proto.OpBinary:
		h.closeWebSocket(ctx, req, m2proto.CloseUnsupportedData, "binary messages are not supported")
	case op == m2proto.OpPing:
		pong := m2proto.AppendWebSocketFrame(nil, m2proto.OpPong, req.Body)
		_ = h.sendVia(h.transport, req.Sender, []string{req.ConnID}, pong)
	case op == m2proto.OpPong:
	case op == m2proto.OpClose:
		h.webSocketClosed(ctx, req)
	default:
		h.closeWebSocket(ctx, req, m2proto.CloseProtocolError, "unknown "+op.String())
	}
}

// webSocketText routes a text message, one classic JSON request, to the
// caller's session.
func (h *Host) webSocketText(ctx context.Context, req *m2proto.Request) {
	switch {
	case len(req.Body) > MaxWebSocketMessage:
		h.closeWebSocket(ctx, req, m2proto.CloseMessageTooBig, "message longer than "+strconv.Itoa(MaxWebSocketMessage)+" bytes")
		return
	case !utf8.Valid(req.Body):
		h.closeWebSocket(ctx, req, m2proto.CloseInvalidPayload, "text is not UTF-8")
		return
	}
	headers := make([]m2proto.Header, len(req.Headers))
	for i, hd := range req.Headers {
		if hd.Name == "METHOD" {
			hd.Value = "JSON"
		}
		headers[i] = hd
	}
	h.route(ctx, &m2proto.Request{Sender: req.Sender, ConnID: req.ConnID, Path: req.Path, Headers: headers, Body: req.Body})
}

// webSocketClosed answers the caller's close frame: a close frame echoing
// its status, the hang-up, and the session freed.
func (h *Host) webSocketClosed(ctx context.Context, req *m2proto.Request) {
	code, reason, err := m2proto.ParseWebSocketClose(req.Body)
	if err != nil {
		h.closeWebSocket(ctx, req, m2proto.CloseProtocolError, "bad close frame")
		return
	}
	h.log.Info("websocket caller closed", "conn_id", req.ConnID, "code", int(code), "reason", reason)
	if code == m2proto.CloseNoStatus {
		code = m2proto.CloseNormal
	}
	h.hangUpWebSocket(ctx, req, code, "")
}

// closeWebSocket ends a caller who broke the rules: a log line, a close
// frame saying why, the hang-up, and the session freed.
func (h *Host) closeWebSocket(ctx context.Context, req *m2proto.Request, code m2proto.CloseCode, reason string) {
	h.unsupported.Add(1)
	h.log.Warn("websocket: closing the connection", "conn_id", req.ConnID, "code", int(code), "reason", reason)
	h.hangUpWebSocket(ctx, req, code, reason)
}

// hangUpWebSocket sends a close frame and closes the connection, forgets
// the caller and frees their session as if Mongrel2 had said they left
// (it says nothing when the handler closes).
func (h *Host) hangUpWebSocket(ctx context.Context, req *m2proto.Request, code m2proto.CloseCode, reason string) {
	ids := []string{req.ConnID}
	if err := h.sendVia(h.transport, req.Sender, ids, m2proto.AppendWebSocketClose(nil, code, reason)); err == nil {
		_ = h.sendVia(h.transport, req.Sender, ids, nil)
	}
	h.ws.forget(req.ConnID)
	h.route(ctx, &m2proto.Request{
		Sender: req.Sender, ConnID: req.ConnID, Path: "@*",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}},
		Body:    []byte(`{"type":"disconnect"}`),
	})
}

// sweepWebSockets forgets the entries idle for webSocketForgetAfter whose
// caller has no session: Mongrel2 dropped them without a notice.
func (h *Host) sweepWebSockets() {
	cutoff := time.Now().Add(-webSocketForgetAfter)
	idle := h.ws.idleSince(cutoff)
	stale := idle[:0]
	h.mu.Lock()
	for _, id := range idle {
		if h.owners[id] == nil {
			stale = append(stale, id)
		}
	}
	h.mu.Unlock()
	h.ws.forgetIdle(stale, cutoff)
}

// sendToCallers sends a reply body to connIDs through the transport,
// WebSocket callers getting it as a WebSocket frame (see
// webSocketMessage); a hang-up (empty body) becomes a close frame, then
// the hang-up, and the callers leave the set. With callers of both kinds
// the reply is sent twice, once per kind.
func (h *Host) sendToCallers(sender string, connIDs []string, body []byte) error {
	classic, browsers := h.ws.split(connIDs)
	// Browsers on other phone lines, as their hosts report them.
	classic, remote := h.remoteBrowsers(classic)
	browsers = append(browsers, remote...)
	if len(browsers) == 0 {
		return h.sendVia(h.transport, sender, connIDs, body)
	}
	var errs []error
	if len(classic) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, classic, body))
	}
	if len(body) == 0 {
		errs = append(errs, h.sendVia(h.transport, sender, browsers, m2proto.AppendWebSocketClose(nil, m2proto.CloseNormal, "")))
		errs = append(errs, h.sendVia(h.transport, sender, browsers, nil))
		h.ws.forget(browsers...)
	} else {
		errs = append(errs, h.sendVia(h.transport, sender, browsers, h.webSocketMessage(body)))
	}
	return errors.Join(errs...)
}

// webSocketMessage turns a reply body meant for a classic caller into a
// WebSocket frame: a client frame (ending in NUL) loses the NUL and, unless
// the host sends raw frames, its base64, and the JSON goes out as a text
// frame, without control strings (see stripControlStrings). A body that is
// not a client frame (a script's conn:reply) goes out as it is: a text
// frame if it is UTF-8, else a binary one.
func (h *Host) webSocketMessage(body []byte) []byte {
	payload := body
	if trimmed, ok := bytes.CutSuffix(body, []byte{0}); ok {
		payload = trimmed
		if !h.cfg.RawFrames {
			if decoded, err := base64.StdEncoding.AppendDecode(nil, trimmed); err == nil {
				payload = decoded
			}
		}
		payload = stripControlStrings(payload)
	}
	op := m2proto.OpText
	if !utf8.Valid(payload) {
		op = m2proto.OpBinary
	}
	return m2proto.AppendWebSocketFrame(nil, op, payload)
}

// limitText is s cut to at most n bytes, for a log line that quotes a
// caller's header.
func limitText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
