// Package host runs the BBS behind a front end: it takes the handler
// messages the front end (Mongrel2, or m2bbs's own) sends over a Transport,
// parses them with m2proto, hands JSON-socket messages to the session table
// and answers HTTP requests for the status page. Everything Lua happens on
// the one goroutine that runs Host.Run.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/session"
)

// Transport carries handler messages between the host and the front end.
// zmqtransport.Transport implements it.
type Transport interface {
	// Messages delivers each message the front end sent; it is closed when
	// the transport closes.
	Messages() <-chan []byte
	// Send queues one reply message for the front end.
	Send(msg []byte) error
	// Subscribed is closed once the front end listens to replies.
	Subscribed() <-chan struct{}
}

// StatusPath is the HTTP path on which the host reports its Status as JSON.
const StatusPath = "/status"

// SubscribeTimeout bounds how long Run holds the first requests back while
// waiting for the front end to subscribe to replies.
const SubscribeTimeout = 5 * time.Second

// Status is what the status page reports.
type Status struct {
	Sessions session.Stats `json:"sessions"`
	// BadFrames counts handler messages that could not be parsed.
	BadFrames int64 `json:"bad_frames"`
	// Unsupported counts requests of a kind the host does not serve
	// (XML sockets, WebSocket frames).
	Unsupported int64 `json:"unsupported"`
	// HTTPRequests counts HTTP requests answered.
	HTTPRequests int64 `json:"http_requests"`
	// ReplyErrors counts replies the transport refused.
	ReplyErrors int64 `json:"reply_errors"`
}

// Host connects a session table to a transport.
type Host struct {
	transport Transport
	log       *slog.Logger
	table     *session.Table
	ready     chan struct{}

	badFrames, unsupported, httpRequests, replyErrors atomic.Int64
}

// New creates a Host whose sessions run the scripts cfg names; deps.Replier
// is set by New (replies go to the transport).
func New(transport Transport, cfg session.Config, deps session.Deps) (*Host, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	h := &Host{transport: transport, log: deps.Log, ready: make(chan struct{})}
	deps.Replier = replier{h}
	table, err := session.New(cfg, deps)
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	h.table = table
	return h, nil
}

// Status returns the current counters; safe from any goroutine.
func (h *Host) Status() Status {
	return Status{
		Sessions:     h.table.Stats(),
		BadFrames:    h.badFrames.Load(),
		Unsupported:  h.unsupported.Load(),
		HTTPRequests: h.httpRequests.Load(),
		ReplyErrors:  h.replyErrors.Load(),
	}
}

// Ready is closed when Run starts serving: the front end has subscribed to
// replies (or SubscribeTimeout passed).
func (h *Host) Ready() <-chan struct{} { return h.ready }

// Run serves messages until ctx is done or the transport closes, then
// closes the session table. It returns nil after ctx is cancelled.
func (h *Host) Run(ctx context.Context) error {
	defer h.table.Close()
	if !h.awaitSubscriber(ctx) {
		return nil
	}
	close(h.ready)
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-h.transport.Messages():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("host: transport closed")
			}
			h.Handle(msg)
		}
	}
}

// awaitSubscriber waits (bounded) until the front end listens to replies,
// so that the first callers' screens are not lost; it reports false if ctx
// ended first.
func (h *Host) awaitSubscriber(ctx context.Context) bool {
	timer := time.NewTimer(SubscribeTimeout)
	defer timer.Stop()
	select {
	case <-h.transport.Subscribed():
	case <-timer.C:
		h.log.Warn("front end has not subscribed to replies yet; serving anyway", "waited", SubscribeTimeout)
	case <-ctx.Done():
		return false
	}
	return true
}

// Handle serves one handler message. It must be called from the goroutine
// that runs the host (Run calls it); tests call it directly.
func (h *Host) Handle(msg []byte) {
	req, err := m2proto.ParseRequest(msg)
	if err != nil {
		h.badFrames.Add(1)
		h.log.Warn("bad handler message", "err", err, "len", len(msg))
		return
	}
	switch {
	case req.IsJSON():
		h.table.Handle(req)
	case req.IsHTTP():
		h.serveHTTP(req)
	default:
		h.unsupported.Add(1)
		h.log.Warn("unsupported request", "conn_id", req.ConnID, "method", req.Method(), "path", req.Path)
	}
}

// serveHTTP answers HTTP requests routed to the handler: the status page,
// or 404.
func (h *Host) serveHTTP(req *m2proto.Request) {
	h.httpRequests.Add(1)
	status, contentType, body := http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n")
	if urlPath(req) == StatusPath {
		b, err := json.Marshal(h.Status())
		if err != nil {
			h.log.Error("encode status", "err", err)
			return
		}
		status, contentType, body = http.StatusOK, "application/json", append(b, '\n')
	}
	resp := m2proto.AppendHTTPResponse(nil, status, contentType, body)
	if err := h.send(req.Sender, []string{req.ConnID}, resp); err != nil {
		h.log.Warn("http reply", "conn_id", req.ConnID, "err", err)
	}
}

// urlPath is the request's path without a query string.
func urlPath(req *m2proto.Request) string {
	if p := req.Header("PATH"); p != "" {
		return p
	}
	return req.Path
}

// send frames a reply to connIDs, split into messages Mongrel2 accepts.
func (h *Host) send(sender string, connIDs []string, body []byte) error {
	for len(connIDs) > 0 {
		n := min(len(connIDs), m2proto.MaxReplyTargets)
		if err := h.transport.Send(m2proto.AppendReply(nil, sender, connIDs[:n], body)); err != nil {
			h.replyErrors.Add(1)
			return fmt.Errorf("send reply: %w", err)
		}
		connIDs = connIDs[n:]
	}
	return nil
}

// replier lets the session table reply through the host.
type replier struct{ h *Host }

func (r replier) Reply(sender string, connIDs []string, body []byte) error {
	return r.h.send(sender, connIDs, body)
}
