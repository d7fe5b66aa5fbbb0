package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// Close reasons the page sees (at most 123 bytes each).
const (
	reasonExit       = "hung up"
	reasonBBSGone    = "the BBS hung up"
	reasonNoAnswer   = "no answer on this line"
	reasonBadRequest = `send {"type":"msg","msg":"..."} objects`
	reasonTextOnly   = "text frames only"
	reasonPageGone   = "the page hung up"
)

// serveWebSocket upgrades r and bridges it to a connection to the BBS on
// route until either side hangs up.
func (h *Handler) serveWebSocket(w http.ResponseWriter, r *http.Request, route string) {
	log := h.log.With("route", route, "remote", r.RemoteAddr)
	if err := h.cfg.Origins.Check(r.Header.Get("Origin"), r.Host); err != nil {
		h.refusals.Warn(log, "websocket refused", "err", err)
		http.Error(w, "this board does not take calls from pages of another site", http.StatusForbidden)
		return
	}
	// The origin is checked above, by the rule the host applies behind
	// Mongrel2.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		// Accept has answered (426 without an upgrade). A caller can send
		// these as fast as they like: the log gets a line a second, and
		// none of their headers (Accept's error quotes them).
		h.refusals.Warn(log, "websocket: bad handshake", "key_bytes", len(r.Header.Get("Sec-WebSocket-Key")))
		return
	}
	ws.SetReadLimit(MaxPageMessageBytes)
	// A hijacked request's context ends only when this handler returns.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	dctx, dcancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	bbs, err := h.cfg.Dial(dctx, route, remoteAddr(r.RemoteAddr))
	dcancel()
	if err != nil {
		log.Warn("websocket: dial the BBS", "err", err)
		_ = ws.Close(websocket.StatusTryAgainLater, reasonNoAnswer)
		return
	}
	log.Info("websocket caller connected")
	b := &bridge{ws: ws, bbs: bbs, route: route, raw: h.cfg.RawFrames, writeTimeout: h.cfg.WriteTimeout, log: log}
	b.run(ctx)
}

// remoteAddr parses an http.Request's RemoteAddr ("ip:port").
func remoteAddr(s string) net.Addr {
	if ap, err := net.ResolveTCPAddr("tcp", s); err == nil && ap.IP != nil {
		return ap
	}
	return stringAddr(s)
}

// stringAddr is a remote address that is not ip:port.
type stringAddr string

func (a stringAddr) Network() string { return "websocket" }
func (a stringAddr) String() string  { return string(a) }

// bridge is one WebSocket caller joined to one connection to the BBS.
type bridge struct {
	ws           *websocket.Conn
	bbs          net.Conn
	route        string
	raw          bool
	writeTimeout time.Duration
	log          *slog.Logger

	once sync.Once
}

// run copies both ways until one side ends, then closes both.
func (b *bridge) run(ctx context.Context) {
	pageDone := make(chan struct{})
	go func() {
		defer close(pageDone)
		defer func() {
			if p := recover(); p != nil {
				// One caller's bug ends that call, not the server.
				b.log.Error("websocket: page reader panicked", "panic", p, "stack", string(debug.Stack()))
				b.hangUp(websocket.StatusInternalError, "internal error")
			}
		}()
		b.pageToBBS(ctx)
	}()
	b.bbsToPage(ctx)
	<-pageDone
}

// hangUp closes both sides; the first caller's status and reason are the
// ones the page gets.
func (b *bridge) hangUp(code websocket.StatusCode, reason string) {
	b.once.Do(func() {
		_ = b.bbs.Close()
		_ = b.ws.Close(code, reason)
		b.log.Info("websocket caller gone", "status", code.String(), "reason", reason)
	})
}

// pageToBBS turns each request from the page into a classic request.
func (b *bridge) pageToBBS(ctx context.Context) {
	var buf []byte
	for {
		typ, data, err := b.ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != -1 {
				// The page hung up with a close frame.
				b.hangUp(websocket.StatusNormalClosure, reasonPageGone)
				return
			}
			// A broken connection, or a message over the read limit
			// (which the library has answered with status 1009).
			b.log.Warn("websocket read", "err", err)
			b.hangUp(websocket.StatusGoingAway, reasonPageGone)
			return
		}
		if typ != websocket.MessageText {
			b.log.Warn("websocket: binary message refused")
			b.hangUp(websocket.StatusUnsupportedData, reasonTextOnly)
			return
		}
		req, err := parseRequest(data)
		if err != nil {
			b.log.Warn("websocket: bad request", "err", err)
			b.hangUp(websocket.StatusPolicyViolation, reasonBadRequest)
			return
		}
		buf = req.appendClassic(buf[:0], b.route)
		if err := b.bbs.SetWriteDeadline(time.Now().Add(b.writeTimeout)); err == nil {
			_, err = b.bbs.Write(buf)
		}
		if err != nil {
			b.hangUp(websocket.StatusGoingAway, reasonBBSGone)
			return
		}
	}
}

// bbsToPage forwards each BBS message to the page as one JSON text
// message, and hangs up after an exit message.
func (b *bridge) bbsToPage(ctx context.Context) {
	fr := classic.NewFrameReader(b.bbs, b.raw)
	for {
		m, err := fr.Next()
		switch {
		case errors.Is(err, classic.ErrBadBase64) || errors.Is(err, classic.ErrBadJSON):
			b.log.Warn("websocket: bad frame from the BBS dropped", "err", err)
			continue
		case errors.Is(err, io.EOF):
			b.hangUp(websocket.StatusGoingAway, reasonBBSGone)
			return
		case err != nil:
			// Closed by hangUp, or a broken stream.
			b.hangUp(websocket.StatusGoingAway, reasonBBSGone)
			return
		}
		data, err := encodeMessage(m)
		if err == nil {
			wctx, cancel := context.WithTimeout(ctx, b.writeTimeout)
			err = b.ws.Write(wctx, websocket.MessageText, data)
			cancel()
		}
		if err != nil {
			b.hangUp(websocket.StatusGoingAway, reasonPageGone)
			return
		}
		if m.Type == message.TypeExit {
			b.hangUp(websocket.StatusNormalClosure, reasonExit)
			return
		}
	}
}
