// Package websocket is the layer between the transport and the host that
// speaks RFC 6455 to browsers behind Mongrel2, so that the host never
// does: it answers handshakes, pings and close frames, turns each text
// message into the JSON-socket request it carries, and frames what the
// host sends a browser.
//
// A browser opens a WebSocket on Path(line)
// through Mongrel2 (see the WebSockets section of package m2proto for what
// Mongrel2 does), and from then on is an ordinary caller to the sessions:
// its conn id is kept in a set, each text message it sends carries one
// classic JSON request ({"type":"msg","msg":"connect"}…) and is routed as
// if it came over the JSON socket (METHOD "JSON", the path left as the
// WebSocket's), and every reply to it leaves as a text frame holding the
// bare JSON message instead of the classic base64(JSON)+NUL.
//
// The layer answers the handshake (101, or 403 for a page of another site
// than the board and Config.Origins: see access.Origins.Check), pings
// (pong) and close frames (close, then hangs up and has the session
// freed). It refuses, with a close frame, a log line and the session
// freed: binary messages (1003),
// fragments Mongrel2 did not join (1008), text that is not UTF-8 (1007),
// messages over MaxMessage (1009) and bad flags or opcodes
// (1002). Requests above m2proto.MaxMessageBytes never parse and are
// dropped like any bad handler message.
//
// A conn id leaves the set when the caller closes, when the host hangs up
// on it, and on Mongrel2's disconnect notice. Entries Mongrel2 dropped
// without a notice (a caller silent past its limits.min_ping) are swept
// once they have no session and no frame for forgetAfter. A
// frame from a conn id not in the set (a browser whose handshake the
// previous host process answered) puts it back.
//
// Limits: with phone lines, a layer knows only its own host's WebSocket
// callers; the host learns of browsers on other lines from the lines
// directory, as they were when it last looked.
package websocket

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// WebSocket limits.
const (
	// MaxMessage bounds one text message from a browser: one classic
	// JSON request, at most session.Config.MaxLineBytes of text plus the
	// JSON around it.
	MaxMessage = 64 << 10
	// forgetAfter is how long an entry without a session and without
	// frames stays in the set: longer than Mongrel2's min_ping.
	forgetAfter = 30 * time.Minute
	// sweepMin is the set size from which adding an entry sweeps stale
	// ones; the next sweep waits until the set has doubled.
	sweepMin = 64
)

// Path is the URL path browsers open a WebSocket on: "/ws/N" for line n,
// "/ws" for n < 1 (the single-host board; with phone lines, an alias of
// line 1, as "@bbs" is).
func Path(n int) string {
	if n < 1 {
		return "/ws"
	}
	return "/ws/" + strconv.Itoa(n)
}

// callers is the set of conn ids of WebSocket callers; safe for
// concurrent use (the dispatch loop adds, every worker's replies look up).
type callers struct {
	mu      sync.Mutex
	seen    map[string]time.Time // conn id -> last frame or handshake
	sweepAt int
	// n is len(seen), so that replies skip the lock when there are no
	// WebSocket callers at all.
	n atomic.Int64
}

// add records connID as a WebSocket caller (again) and reports whether it
// is time to sweep stale entries.
func (s *callers) add(connID string, now time.Time) (sweep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
		s.sweepAt = sweepMin
	}
	s.seen[connID] = now
	s.n.Store(int64(len(s.seen)))
	return len(s.seen) >= s.sweepAt
}

// touch updates connID's last activity and reports whether it is a
// WebSocket caller.
func (s *callers) touch(connID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[connID]; !ok {
		return false
	}
	s.seen[connID] = now
	return true
}

// has reports whether connID is a WebSocket caller.
func (s *callers) has(connID string) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.seen[connID]
	return ok
}

// forget removes conn ids from the set.
func (s *callers) forget(connIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range connIDs {
		delete(s.seen, id)
	}
	s.n.Store(int64(len(s.seen)))
}

// split separates WebSocket callers from the others, keeping the order;
// without WebSocket callers it returns connIDs itself and no copy.
func (s *callers) split(connIDs []string) (classic, browsers []string) {
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
func (s *callers) idleSince(cutoff time.Time) []string {
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
func (s *callers) forgetIdle(ids []string, cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if t, ok := s.seen[id]; ok && t.Before(cutoff) {
			delete(s.seen, id)
		}
	}
	s.n.Store(int64(len(s.seen)))
	s.sweepAt = max(sweepMin, 2*len(s.seen))
}

// len is the number of WebSocket callers known.
func (s *callers) len() int { return int(s.n.Load()) }

// Config is what a Layer needs from the host.
type Config struct {
	// Origins says which pages may open WebSockets, besides the board's
	// own on the machine itself (access.Origins).
	Origins access.Origins
	// Send hands one reply body to the transport (empty: hang up).
	Send func(sender string, connIDs []string, body []byte) error
	// Route hands the host a request from a browser: the JSON-socket
	// request a text message carries, or the disconnect notice of a
	// browser the layer hung up on.
	Route func(ctx context.Context, req *m2proto.Request)
	// Online reports whether a caller has a session (whose entry is not
	// swept).
	Online func(connID string) bool
	// Refused is told of each request the layer refuses.
	Refused func()
	// RawFrames says classic frames are JSON + NUL, not base64 (for
	// bytes a script framed itself: see SendBody).
	RawFrames bool
	// Log gets a line per caller and per refusal.
	Log *slog.Logger
}

// Layer is the WebSocket layer of one host; safe for concurrent use.
type Layer struct {
	cfg Config
	set callers
	// refusals rate-limits the log lines of refused handshakes: they
	// cost an attacker nothing.
	refusals access.RefusalLog
}

// New returns a Layer sending through cfg.Send and routing through
// cfg.Route.
func New(cfg Config) *Layer {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Refused == nil {
		cfg.Refused = func() {}
	}
	if cfg.Online == nil {
		cfg.Online = func(string) bool { return false }
	}
	return &Layer{cfg: cfg}
}

// Serve serves req if it is a WebSocket handshake or frame and reports
// whether it did. For other requests it only notes a disconnect notice
// (or a JSON-socket message, if Mongrel2 gave the conn id to a new
// caller) by forgetting the conn id, and returns false.
func (l *Layer) Serve(ctx context.Context, req *m2proto.Request) bool {
	switch {
	case req.IsWebSocketHandshake():
		l.accept(req)
		return true
	case req.IsWebSocketFrame():
		l.serveFrame(ctx, req)
		return true
	case req.IsJSON() && l.set.has(req.ConnID):
		l.set.forget(req.ConnID)
	}
	return false
}

// Has reports whether connID is a browser on a WebSocket.
func (l *Layer) Has(connID string) bool { return l.set.has(connID) }

// Split separates browsers from the other callers, keeping the order;
// without browsers it returns connIDs itself and no copy.
func (l *Layer) Split(connIDs []string) (classic, browsers []string) { return l.set.split(connIDs) }

// Forget removes callers from the set of browsers (their connection is
// gone).
func (l *Layer) Forget(connIDs ...string) { l.set.forget(connIDs...) }

// Len is the number of browsers known.
func (l *Layer) Len() int { return l.set.len() }

// accept answers a handshake: 101 and the caller joins the set, 403 and a
// hang-up for a page of another site (see access.Origins.Check), or 400
// and a hang-up for a request RFC 6455 does not allow. Refusals are logged
// at most once a second (Layer.refusals).
func (l *Layer) accept(req *m2proto.Request) {
	if err := l.cfg.Origins.Check(req.Header("origin"), req.Header("host")); err != nil {
		l.cfg.Refused()
		l.refusals.Warn(l.cfg.Log, "websocket: origin refused", "conn_id", req.ConnID, "path", req.Path,
			"remote_addr", req.Header("REMOTE_ADDR"), "host", limitText(req.Header("host"), 256), "err", err)
		l.refuseHandshake(req, http.StatusForbidden, "this board does not take calls from pages of another site\n")
		return
	}
	key := req.Header("sec-websocket-key")
	version := req.Header("sec-websocket-version")
	if !m2proto.ValidWebSocketKey(key) || version != "13" {
		l.cfg.Refused()
		// The key is the caller's: its length is enough to tell why.
		l.refusals.Warn(l.cfg.Log, "websocket: bad handshake", "conn_id", req.ConnID, "path", req.Path,
			"remote_addr", req.Header("REMOTE_ADDR"), "key_bytes", len(key), "version", limitText(version, 16))
		l.refuseHandshake(req, http.StatusBadRequest, "bad websocket handshake\n")
		return
	}
	// Known before the 101 leaves, so that nothing reaches the caller in
	// the classic framing once it speaks WebSocket.
	if l.set.add(req.ConnID, time.Now()) {
		l.sweep()
	}
	body := m2proto.AppendWebSocketHandshake(nil, m2proto.WebSocketAccept(key))
	if err := l.cfg.Send(req.Sender, []string{req.ConnID}, body); err != nil {
		l.set.forget(req.ConnID)
		l.cfg.Log.Warn("websocket: handshake reply", "conn_id", req.ConnID, "err", err)
		return
	}
	l.cfg.Log.Debug("websocket caller", "conn_id", req.ConnID, "path", req.Path, "remote_addr", req.Header("REMOTE_ADDR"))
}

// refuseHandshake answers a handshake with an HTTP error, then hangs up.
func (l *Layer) refuseHandshake(req *m2proto.Request, code int, text string) {
	body := m2proto.AppendHTTPResponse(nil, code, "text/plain; charset=utf-8", []byte(text))
	if err := l.cfg.Send(req.Sender, []string{req.ConnID}, body); err == nil {
		_ = l.cfg.Send(req.Sender, []string{req.ConnID}, nil)
	}
}

// serveFrame serves one message from a WebSocket caller.
func (l *Layer) serveFrame(ctx context.Context, req *m2proto.Request) {
	flags, err := req.WebSocketFlags()
	known := l.set.touch(req.ConnID, time.Now())
	if err != nil {
		if known {
			l.close(ctx, req, m2proto.CloseProtocolError, "bad frame flags")
			return
		}
		l.cfg.Refused()
		l.cfg.Log.Warn("websocket: frame without valid FLAGS", "conn_id", req.ConnID, "err", err)
		return
	}
	if !known {
		l.cfg.Log.Info("websocket: frame from a caller whose handshake this process did not see", "conn_id", req.ConnID)
		if l.set.add(req.ConnID, time.Now()) {
			l.sweep()
		}
	}
	op := flags.Opcode()
	switch {
	case flags.Reserved() != 0:
		l.close(ctx, req, m2proto.CloseProtocolError, "reserved bits set")
	case op == m2proto.OpContinuation || (!flags.Fin() && !op.IsControl()):
		l.close(ctx, req, m2proto.ClosePolicyViolation, "fragmented messages are not supported")
	case op.IsControl() && (!flags.Fin() || len(req.Body) > m2proto.MaxControlPayload):
		l.close(ctx, req, m2proto.CloseProtocolError, "bad control frame")
	case op == m2proto.OpText:
		l.text(ctx, req)
	case op == m2proto.OpBinary:
		l.close(ctx, req, m2proto.CloseUnsupportedData, "binary messages are not supported")
	case op == m2proto.OpPing:
		pong := m2proto.AppendWebSocketFrame(nil, m2proto.OpPong, req.Body)
		_ = l.cfg.Send(req.Sender, []string{req.ConnID}, pong)
	case op == m2proto.OpPong:
	case op == m2proto.OpClose:
		l.closed(ctx, req)
	default:
		l.close(ctx, req, m2proto.CloseProtocolError, "unknown "+op.String())
	}
}

// text routes a text message, one classic JSON request, to the caller's
// session.
func (l *Layer) text(ctx context.Context, req *m2proto.Request) {
	switch {
	case len(req.Body) > MaxMessage:
		l.close(ctx, req, m2proto.CloseMessageTooBig, "message longer than "+strconv.Itoa(MaxMessage)+" bytes")
		return
	case !utf8.Valid(req.Body):
		l.close(ctx, req, m2proto.CloseInvalidPayload, "text is not UTF-8")
		return
	}
	headers := make([]m2proto.Header, len(req.Headers))
	for i, hd := range req.Headers {
		if hd.Name == "METHOD" {
			hd.Value = "JSON"
		}
		headers[i] = hd
	}
	l.cfg.Route(ctx, &m2proto.Request{Sender: req.Sender, ConnID: req.ConnID, Path: req.Path, Headers: headers, Body: req.Body})
}

// closed answers the caller's close frame: a close frame echoing its
// status, the hang-up, and the session freed.
func (l *Layer) closed(ctx context.Context, req *m2proto.Request) {
	code, reason, err := m2proto.ParseWebSocketClose(req.Body)
	if err != nil {
		l.close(ctx, req, m2proto.CloseProtocolError, "bad close frame")
		return
	}
	l.cfg.Log.Info("websocket caller closed", "conn_id", req.ConnID, "code", int(code), "reason", reason)
	if code == m2proto.CloseNoStatus {
		code = m2proto.CloseNormal
	}
	l.hangUp(ctx, req, code, "")
}

// close ends a caller who broke the rules: a log line, a close frame
// saying why, the hang-up, and the session freed.
func (l *Layer) close(ctx context.Context, req *m2proto.Request, code m2proto.CloseCode, reason string) {
	l.cfg.Refused()
	l.cfg.Log.Warn("websocket: closing the connection", "conn_id", req.ConnID, "code", int(code), "reason", reason)
	l.hangUp(ctx, req, code, reason)
}

// hangUp sends a close frame and closes the connection, forgets the
// caller and frees their session as if Mongrel2 had said they left (it
// says nothing when the handler closes).
func (l *Layer) hangUp(ctx context.Context, req *m2proto.Request, code m2proto.CloseCode, reason string) {
	ids := []string{req.ConnID}
	if err := l.cfg.Send(req.Sender, ids, m2proto.AppendWebSocketClose(nil, code, reason)); err == nil {
		_ = l.cfg.Send(req.Sender, ids, nil)
	}
	l.set.forget(req.ConnID)
	l.cfg.Route(ctx, &m2proto.Request{
		Sender: req.Sender, ConnID: req.ConnID, Path: "@*",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}},
		Body:    []byte(`{"type":"disconnect"}`),
	})
}

// sweep forgets the entries idle for forgetAfter whose caller has no
// session: Mongrel2 dropped them without a notice.
func (l *Layer) sweep() {
	cutoff := time.Now().Add(-forgetAfter)
	idle := l.set.idleSince(cutoff)
	stale := idle[:0]
	for _, id := range idle {
		if !l.cfg.Online(id) {
			stale = append(stale, id)
		}
	}
	l.set.forgetIdle(stale, cutoff)
}

// SendBody sends a reply body to browsers: bytes a script sent as they
// are (conn:reply) as a frame of their own (see appendBody); a hang-up
// (empty body) as a close frame, then the hang-up, and the callers leave
// the set.
func (l *Layer) SendBody(sender string, browsers []string, body []byte) error {
	if len(body) > 0 {
		return l.cfg.Send(sender, browsers, appendBody(body, l.cfg.RawFrames))
	}
	err := errors.Join(l.cfg.Send(sender, browsers, m2proto.AppendWebSocketClose(nil, m2proto.CloseNormal, "")),
		l.cfg.Send(sender, browsers, nil))
	l.set.forget(browsers...)
	return err
}

// AppendText appends m as one WebSocket text frame for a browser to dst:
// its JSON, encoded once, without control strings in its text and prompt
// (OSC such as a window title or a clipboard write, DCS, APC, PM, SOS,
// and C1 controls), as the built-in browser bridge and the telnet gateway
// send it; colour and cursor sequences pass.
func AppendText(dst []byte, m message.Message) []byte {
	m.Msg = termtext.StripStrings(m.Msg)
	m.PChar = termtext.StripStrings(m.PChar)
	return m2proto.AppendWebSocketFrame(dst, m2proto.OpText, m.AppendJSON(nil))
}

// appendBody turns bytes a script sent as they are into a WebSocket
// frame: bytes ending in NUL, which the script framed as a classic
// client's message, lose the NUL and, unless raw, their base64, and go
// out as a text frame without control strings (see stripControlStrings);
// other bytes go out as they are, a text frame if they are UTF-8, else a
// binary one.
func appendBody(body []byte, raw bool) []byte {
	payload := body
	if trimmed, ok := bytes.CutSuffix(body, []byte{0}); ok {
		payload = trimmed
		if !raw {
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
