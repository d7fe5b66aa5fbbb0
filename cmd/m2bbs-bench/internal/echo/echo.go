// Package echo is the transport floor m2bbs is measured against: a
// Mongrel2 handler that answers every line a caller sends with a prompt
// repeating it, and does nothing else — no Lua, no SQLite, no sessions.
// Behind the same front end and the same ZeroMQ path as the host, it shows
// what a prompt round trip costs before the board does any work.
//
// Its replies have the shape of the host's prompts:
// base64({"msg":LINE,"pchar":"> ","type":"prompt"}) + NUL. A disconnect
// notice is ignored. An HTTP GET of StatusPath is answered with the
// process's heap size and goroutine count, in the host's field names, so
// that a benchmark can read both the same way; any other HTTP request gets
// 404.
package echo

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync/atomic"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// StatusPath is the HTTP path of the handler's status.
const StatusPath = "/status"

// PromptChar is the pchar of every echo.
const PromptChar = "> "

// Transport carries handler messages (zmqtransport.Transport implements
// it).
type Transport interface {
	Messages() <-chan []byte
	Send(msg []byte) error
}

// Stats count what the handler did.
type Stats struct {
	// Echoed counts lines answered; Ignored disconnect notices and
	// messages that were not a line; BadFrames handler messages that did
	// not parse; SendErrors replies the transport refused.
	Echoed, Ignored, BadFrames, SendErrors int64
}

// Status is what StatusPath answers: the host's field names for the same
// figures.
type Status struct {
	HeapBytes  uint64 `json:"heap_bytes"`
	Goroutines int    `json:"goroutines"`
	Echoed     int64  `json:"echoed"`
}

// Handler echoes lines. Create it with New; run it with Run.
type Handler struct {
	t                                      Transport
	raw                                    bool
	log                                    *slog.Logger
	echoed, ignored, badFrames, sendErrors atomic.Int64
}

// New returns a handler replying over t; raw sends raw JSON frames
// instead of base64.
func New(t Transport, raw bool, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{t: t, raw: raw, log: log}
}

// Stats returns the counters; safe from any goroutine.
func (h *Handler) Stats() Stats {
	return Stats{Echoed: h.echoed.Load(), Ignored: h.ignored.Load(), BadFrames: h.badFrames.Load(), SendErrors: h.sendErrors.Load()}
}

// Run answers messages until ctx is done (then it returns nil) or the
// transport closes.
func (h *Handler) Run(ctx context.Context) error {
	var frame, msg []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case in, ok := <-h.t.Messages():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("echo: transport closed")
			}
			frame, msg = h.handle(in, frame[:0], msg[:0])
		}
	}
}

// line is the part of a caller's message the handler reads.
type line struct {
	Type string `json:"type"`
	Msg  string `json:"msg"`
}

// handle answers one handler message, reusing the scratch buffers frame
// and msg and returning them.
func (h *Handler) handle(in, frame, msg []byte) ([]byte, []byte) {
	req, err := m2proto.ParseRequest(in)
	if err != nil {
		h.badFrames.Add(1)
		h.log.Warn("bad handler message", "err", err, "len", len(in))
		return frame, msg
	}
	var body []byte
	switch {
	case req.IsHTTP():
		body = h.http(req)
	case req.IsJSON() && !req.IsDisconnect():
		var l line
		if err := json.Unmarshal(req.Body, &l); err != nil || l.Type != "msg" {
			h.ignored.Add(1)
			return frame, msg
		}
		reply := message.Prompt(l.Msg, PromptChar)
		msg = reply.AppendJSON(msg)
		frame = m2proto.AppendClientFrame(frame, msg, h.raw)
		body = frame
		h.echoed.Add(1)
	default:
		h.ignored.Add(1)
		return frame, msg
	}
	// The transport owns what it is given: send a copy of the scratch.
	out := m2proto.AppendReply(nil, req.Sender, []string{req.ConnID}, body)
	if err := h.t.Send(out); err != nil {
		h.sendErrors.Add(1)
		h.log.Warn("send reply", "conn_id", req.ConnID, "err", err)
	}
	return frame, msg
}

// http answers the status path with the process's figures, anything else
// with 404.
func (h *Handler) http(req *m2proto.Request) []byte {
	path := req.Header("PATH")
	if path != StatusPath || (req.Method() != http.MethodGet && req.Method() != http.MethodHead) {
		return m2proto.AppendHTTPResponse(nil, http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	st := Status{Goroutines: runtime.NumGoroutine(), Echoed: h.echoed.Load()}
	if sample[0].Value.Kind() == metrics.KindUint64 {
		st.HeapBytes = sample[0].Value.Uint64()
	}
	b, _ := json.Marshal(st)
	return m2proto.AppendHTTPResponse(nil, http.StatusOK, "application/json", append(b, '\n'))
}
