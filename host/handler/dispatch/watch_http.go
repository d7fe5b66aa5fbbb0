package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// The sysop's watch on the status page (m2bbs status -watch and -chat):
//
//	POST /status/watch?conn_id=N[&chat=1]
//
// answers 200 with a stream of WatchEvent JSON lines (application/x-ndjson,
// chunked), a blank line every watchHeartbeat, until the watch ends: the
// stream's last line is a WatchEnd event, and the connection closes.
// chat=1 breaks in to chat at once; the chat ends with the stream.
//
//	POST /status/chat?conn_id=N          the body is the sysop's line
//	POST /status/chat?conn_id=N&end=1    ends the chat; the watch goes on
//
// Both are the sysop's only (sysopOnly), like every action.

// watchPath is the watch stream's path below StatusPath.
const watchPath = "/watch"

// streamFunc is a streamed answer: it sends each piece of the body with
// send until it returns.
type streamFunc func(ctx context.Context, send func(piece []byte) error)

// serveStream sends a streamed answer to req's caller through t: the head,
// each piece as a chunk, the last chunk, then the hang-up.
func (h *Host) serveStream(ctx context.Context, req *m2proto.Request, t Transport, stream streamFunc) {
	ids := []string{req.ConnID}
	if err := h.sendVia(t, req.Sender, ids, m2proto.AppendChunkedHead(nil, "application/x-ndjson")); err != nil {
		h.log.Warn("http stream", "conn_id", req.ConnID, "err", err)
	}
	stream(ctx, func(piece []byte) error {
		return h.sendVia(t, req.Sender, ids, m2proto.AppendChunk(nil, piece))
	})
	_ = h.sendVia(t, req.Sender, ids, m2proto.AppendLastChunk(nil))
	_ = h.sendVia(t, req.Sender, ids, nil)
}

// watchPage starts the sysop's watch of ?conn_id=N and streams it.
func (h *Host) watchPage(w http.ResponseWriter, r *http.Request) {
	rw, ok := w.(*replyWriter)
	if !ok {
		writeAnswer(w, http.StatusInternalServerError, []byte("the watch streams only through the front end\n"))
		return
	}
	callerID := r.URL.Query().Get("conn_id")
	if callerID == "" {
		writeAnswer(w, http.StatusBadRequest, []byte("watch needs ?conn_id=N\n"))
		return
	}
	watcherID := connIDOf(r.Context())
	wt, err := h.startWatch(watcherID, callerID, r.URL.Query().Get("chat") == "1")
	if err != nil {
		writeAnswer(w, watchErrorStatus(err), []byte(err.Error()+"\n"))
		return
	}
	rw.stream = func(ctx context.Context, send func([]byte) error) {
		h.pump(ctx, wt, func(batch []WatchEvent) error {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // the caller's "> " as it is
			for _, e := range batch {
				_ = enc.Encode(e) // one line each
			}
			return send(buf.Bytes())
		}, func() error { return send([]byte("\n")) })
	}
}

// watchErrorStatus is the HTTP status of a watch that could not start or
// act.
func watchErrorStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotOnline):
		return http.StatusNotFound
	case errors.Is(err, ErrTooManyWatchers):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrWatchSelf):
		return http.StatusBadRequest
	}
	return http.StatusConflict
}

// answerChat is the sysop's chat line to ?conn_id=N (the body), or the
// chat's end (&end=1).
func (h *Host) answerChat(r *http.Request) (int, []byte) {
	callerID := r.URL.Query().Get("conn_id")
	if callerID == "" {
		return http.StatusBadRequest, []byte("chat needs ?conn_id=N\n")
	}
	watcherID := h.watch.chatter(callerID)
	if watcherID == "" {
		return http.StatusConflict, []byte(ErrNoChat.Error() + " (start one with watch?chat=1)\n")
	}
	var out []outgoing
	var err error
	if r.URL.Query().Get("end") == "1" {
		out, err = h.watch.chat(watcherID, false)
	} else {
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxChatBytes+1))
		text := strings.TrimRight(string(body), "\r\n")
		if text == "" || len(body) > MaxChatBytes {
			return http.StatusBadRequest, []byte("the body is the chat line (1 to 1024 bytes)\n")
		}
		out, err = h.watch.say(watcherID, text)
	}
	if err != nil {
		return watchErrorStatus(err), []byte(err.Error() + "\n")
	}
	h.tellCallers(out)
	return http.StatusOK, jsonLine(map[string]string{"conn_id": callerID})
}

// chatter is the id of the watcher chatting with callerID, or "".
func (hub *watchHub) chatter(callerID string) string {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if c := hub.callers[callerID]; c != nil && c.chat != nil {
		return c.chat.id
	}
	return ""
}

// pump hands w's events to deliver, in batches, until the watch ends
// (then its last events and the WatchEnd), calling heartbeat (if not nil)
// every watchHeartbeat. A failed delivery,
// MaxWatchTime or ctx's end stop the watch.
func (h *Host) pump(ctx context.Context, w *watcher, deliver func([]WatchEvent) error, heartbeat func() error) {
	limit := time.NewTimer(MaxWatchTime)
	defer limit.Stop()
	var tick <-chan time.Time
	if heartbeat != nil {
		ticker := time.NewTicker(watchHeartbeat)
		defer ticker.Stop()
		tick = ticker.C
	}
	var err error
	for {
		select {
		case e := <-w.out:
			err = deliver(h.watch.withDropped(w, pending(e, w.out)))
		case <-tick:
			err = heartbeat()
		case <-limit.C:
			h.stopWatch(w.id, "the watch ran for "+MaxWatchTime.String()+", its longest")
		case <-ctx.Done():
			h.stopWatch(w.id, "the host is stopping")
		case <-w.done:
			_ = deliver(append(h.watch.withDropped(w, pending(WatchEvent{}, w.out)[1:]), WatchEvent{Kind: WatchEnd, Msg: w.why}))
			h.log.Info("sysop watch ended", "conn_id", w.caller.connID, "watcher", w.id, "why", w.why)
			return
		}
		if err != nil {
			h.stopWatch(w.id, "the watcher's stream failed")
			err = nil
		}
	}
}

// pending is first and the events waiting in out, taken without waiting.
func pending(first WatchEvent, out chan WatchEvent) []WatchEvent {
	batch := []WatchEvent{first}
	for {
		select {
		case e := <-out:
			batch = append(batch, e)
		default:
			return batch
		}
	}
}

// withDropped is batch, followed by the notice of the events w lost since
// the last that got through, if any.
func (hub *watchHub) withDropped(w *watcher, batch []WatchEvent) []WatchEvent {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if w.dropped == 0 {
		return batch
	}
	batch = append(batch, WatchEvent{Kind: WatchNotice, Msg: droppedText(w.dropped)})
	w.dropped = 0
	return batch
}
