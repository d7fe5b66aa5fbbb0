package dispatch

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// sysopAction is one of the sysop's actions: POST StatusPath+path,
// answered by answer once sysopOnly let the request through.
type sysopAction struct {
	path   string
	answer answerFunc
}

// sysopActions are the sysop's actions (see StatusPath).
func (h *Host) sysopActions() []sysopAction {
	return []sysopAction{
		{"/broadcast", h.answerBroadcast},
		{"/kick", h.answerKick},
		{"/upgrade", h.answerUpgrade},
		{"/drain", h.answerDrain},
		{"/approve", h.answerApprove},
		{"/events/run", h.answerRunEvent},
		{"/chat", h.answerChat},
	}
}

// answerBroadcast shows the body's text to every caller online.
func (h *Host) answerBroadcast(r *http.Request) (int, []byte) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxSysopBody+1))
	text := strings.TrimSpace(string(body))
	if text == "" || len(body) > MaxSysopBody {
		return http.StatusBadRequest, []byte("the body is the text to broadcast (1 to 4096 bytes)\n")
	}
	return http.StatusOK, jsonLine(map[string]int{"callers": h.Broadcast(r.Context(), text)})
}

// answerKick ends the call of ?conn_id=N.
func (h *Host) answerKick(r *http.Request) (int, []byte) {
	connID := r.URL.Query().Get("conn_id")
	if connID == "" {
		return http.StatusBadRequest, []byte("kick needs ?conn_id=N\n")
	}
	if !h.Kick(r.Context(), connID) {
		return http.StatusNotFound, []byte("no caller online with that conn_id\n")
	}
	return http.StatusOK, jsonLine(map[string]string{"kicked": connID})
}

// answerUpgrade moves every caller onto the edited scripts (Upgrade).
func (h *Host) answerUpgrade(r *http.Request) (int, []byte) {
	res, err := h.Upgrade(r.Context())
	if err != nil {
		return http.StatusConflict, []byte(err.Error() + "\n")
	}
	return http.StatusOK, jsonLine(res)
}

// answerDrain moves phone line ?line=N's callers to line ?to=M
// (Deps.Drain).
func (h *Host) answerDrain(r *http.Request) (int, []byte) {
	if h.deps.Drain == nil {
		return http.StatusNotImplemented, []byte("draining a line needs the built-in front end in the same process (m2bbs run -lines N)\n")
	}
	query := r.URL.Query()
	line, err1 := strconv.Atoi(query.Get("line"))
	to, err2 := strconv.Atoi(query.Get("to"))
	if err1 != nil || err2 != nil {
		return http.StatusBadRequest, []byte("drain needs ?line=N&to=M\n")
	}
	moved, err := h.deps.Drain(r.Context(), line, to)
	if err != nil {
		return http.StatusConflict, []byte(err.Error() + "\n")
	}
	return http.StatusOK, jsonLine(map[string]int{"line": line, "to": to, "moved": moved})
}

// MaxSysopBody bounds the body of a sysop's request (a broadcast's text).
const MaxSysopBody = 4096

// Broadcast shows text to every caller online and returns how many saw it.
func (h *Host) Broadcast(ctx context.Context, text string) int {
	h.mu.Lock()
	workers := h.liveWorkers()
	h.mu.Unlock()
	n := 0
	for _, w := range workers {
		sent, err := onWorker(ctx, w, statusTimeout, func(t *session.Table) int { return t.Broadcast(text) })
		if err != nil {
			h.log.Warn("broadcast: a worker did not answer", "err", err)
		}
		n += sent
	}
	h.log.Info("sysop broadcast", "text", text, "callers", n)
	return n
}

// Kick ends connID's session; it reports whether the caller was online.
func (h *Host) Kick(ctx context.Context, connID string) bool {
	h.mu.Lock()
	o := h.owners[connID]
	h.mu.Unlock()
	if o == nil {
		return false
	}
	kicked, err := onWorker(ctx, o.w, statusTimeout, func(t *session.Table) bool { return t.Kick(connID) })
	if err != nil {
		h.log.Warn("kick: the worker did not answer", "conn_id", connID, "err", err)
		return false
	}
	h.settle(o.w, connID, false)
	return kicked
}
