package host

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/session"
)

// StatusPath is the HTTP path of the status page; the sysop's actions are
// below it: POST StatusPath/broadcast (the body is the text), POST
// StatusPath/kick?conn_id=N, POST StatusPath/upgrade (move every caller
// onto the edited scripts, see Host.Upgrade) and POST
// StatusPath/drain?line=N&to=M (move phone line N's callers to line M,
// Deps.Drain). Anyone may GET the public part of the status page; the
// sysop (see Host.sysopRefusal) gets all of it, without the callers
// online if the query says online=0.
const StatusPath = "/status"

// statusTimeout bounds how long the status page waits for a busy worker.
const statusTimeout = 3 * time.Second

// Status is what the status page reports.
type Status struct {
	Sessions session.Stats `json:"sessions"`
	// Online lists the callers online; only the sysop sees it.
	Online []session.Caller `json:"online,omitempty"`
	// Versions are the scripts versions loaded: the current one first,
	// then older ones still serving callers who started on them.
	Versions []Version `json:"versions"`
	// LoadError is why the last change to the scripts was not loaded;
	// only the sysop sees it.
	LoadError     string `json:"load_error,omitempty"`
	Reloads       int64  `json:"reloads"`
	UptimeSeconds int64  `json:"uptime_seconds"`
	// BadFrames counts handler messages that could not be parsed.
	BadFrames int64 `json:"bad_frames"`
	// Unsupported counts requests of a kind the host does not serve
	// (XML sockets, WebSocket frames).
	Unsupported int64 `json:"unsupported"`
	// HTTPRequests counts HTTP requests answered.
	HTTPRequests int64 `json:"http_requests"`
	// ReplyErrors counts replies the transport refused.
	ReplyErrors int64 `json:"reply_errors"`
	// Busy counts callers turned away because the board was full.
	Busy int64 `json:"busy"`
	// MemoryAborts counts scripts stopped because the heap was too big.
	MemoryAborts int64 `json:"memory_aborts"`
	// StoreErrors counts store faults (the disk full, the database
	// failing): calls from scripts that were answered "not saved", and
	// session journals that could not be written.
	StoreErrors int64 `json:"store_errors"`
	// Admission counts lines the dispatch loop refused or dropped.
	Admission AdmissionStats `json:"admission"`
	// HeapBytes is the Go heap in use (live and not yet collected); only
	// the sysop sees it.
	HeapBytes uint64 `json:"heap_bytes,omitempty"`
	// Goroutines is the number of goroutines in the host process; only
	// the sysop sees it.
	Goroutines int `json:"goroutines,omitempty"`
	// FrontEnd is what the watch of the front end saw (behind a transport
	// that watches it; see frontend_gone.go).
	FrontEnd *FrontEndWatch `json:"front_end,omitempty"`
}

// Version is one loaded generation of the scripts.
type Version struct {
	Version  int       `json:"version"`
	LoadedAt time.Time `json:"loaded_at"`
	Callers  int       `json:"callers"`
}

// Status returns the host's counters and versions, with the process's
// heap and goroutines (without the callers online); safe from any
// goroutine.
func (h *Host) Status() Status {
	st := h.counters()
	st.HeapBytes, st.Goroutines = heapBytes(), runtime.NumGoroutine()
	return st
}

// counters is Status without the process's figures, which the public
// status page leaves out: only what is read under h.mu.
func (h *Host) counters() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := Status{
		Sessions:      h.ended,
		LoadError:     h.loadErr,
		Reloads:       h.reloads.Load(),
		UptimeSeconds: int64(time.Since(h.started) / time.Second),
		BadFrames:     h.badFrames.Load(),
		Unsupported:   h.unsupported.Load(),
		HTTPRequests:  h.httpRequests.Load(),
		ReplyErrors:   h.replyErrors.Load(),
		Busy:          h.busy.Load(),
		MemoryAborts:  h.memoryAborts.Load(),
		Admission:     h.admit.stats(),
		FrontEnd:      h.frontEndWatch(),
	}
	for _, w := range h.liveWorkers() {
		st.Sessions = st.Sessions.Add(w.table.Stats())
		st.StoreErrors += w.table.JournalStats().WriteErrors
	}
	st.StoreErrors += st.Sessions.StoreErrors
	for _, g := range append([]*generation{h.current}, h.retired...) {
		v := Version{Version: g.version, LoadedAt: g.loadedAt}
		for _, w := range g.workers {
			v.Callers += w.owned
		}
		st.Versions = append(st.Versions, v)
	}
	return st
}

// public is the part of st anyone may see: counters and versions, without
// the callers online, the scripts' load error (it names files and lines)
// or the process's heap and goroutines.
func (st Status) public() Status {
	st.Online, st.LoadError, st.HeapBytes, st.Goroutines = nil, "", 0, 0
	return st
}

// heapBytes reads the Go heap's size in use.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// Callers lists the callers online, by conn id.
func (h *Host) Callers(ctx context.Context) []session.Caller {
	h.mu.Lock()
	workers := h.liveWorkers()
	h.mu.Unlock()
	var all []session.Caller
	for _, w := range workers {
		callers, err := onWorker(ctx, w, statusTimeout, (*session.Table).Callers)
		if err != nil {
			h.log.Warn("status: a worker did not answer", "err", err)
			continue
		}
		all = append(all, callers...)
	}
	sort.Slice(all, func(i, j int) bool { return session.LessConnID(all[i].ConnID, all[j].ConnID) })
	return all
}

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

// MaxSysopBody bounds the body of a sysop's request (a broadcast's text).
const MaxSysopBody = 4096

// serveHTTP answers the HTTP requests routed to the handler, replying
// through t: the status page, the sysop's actions, the lines directory,
// or 404.
func (h *Host) serveHTTP(ctx context.Context, req *m2proto.Request, t Transport) {
	h.httpRequests.Add(1)
	code, body := h.answer(ctx, req)
	contentType := "application/json"
	if code != http.StatusOK {
		contentType = "text/plain; charset=utf-8"
	}
	resp := m2proto.AppendHTTPResponse(nil, code, contentType, body)
	if err := h.sendVia(t, req.Sender, []string{req.ConnID}, resp); err != nil {
		h.log.Warn("http reply", "conn_id", req.ConnID, "err", err)
	}
}

// answer works out the status code and body for an HTTP request.
func (h *Host) answer(ctx context.Context, req *m2proto.Request) (int, []byte) {
	path := req.Header("PATH")
	if path == "" {
		path = req.Path
	}
	method := req.Method()
	switch path {
	case lines.Path:
		return h.answerLines(ctx, method)
	case StatusPath:
		if method != http.MethodGet && method != http.MethodHead {
			return http.StatusMethodNotAllowed, []byte("use GET\n")
		}
		var st Status
		if !h.isSysop(req) {
			st = h.counters().public()
		} else {
			st = h.Status()
			if query, _ := url.ParseQuery(req.Header("QUERY")); query.Get("online") != "0" {
				st.Online = h.Callers(ctx)
			}
		}
		b, err := json.Marshal(st)
		if err != nil {
			return http.StatusInternalServerError, []byte(err.Error() + "\n")
		}
		return http.StatusOK, append(b, '\n')
	case StatusPath + "/drain":
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, []byte("use POST\n")
		}
		if why := h.sysopRefusal(req); why != "" {
			return h.refuseSysop(req, why)
		}
		if h.deps.Drain == nil {
			return http.StatusNotImplemented, []byte("draining a line needs the built-in front end in the same process (m2bbs run -lines N)\n")
		}
		query, _ := url.ParseQuery(req.Header("QUERY"))
		line, err1 := strconv.Atoi(query.Get("line"))
		to, err2 := strconv.Atoi(query.Get("to"))
		if err1 != nil || err2 != nil {
			return http.StatusBadRequest, []byte("drain needs ?line=N&to=M\n")
		}
		moved, err := h.deps.Drain(ctx, line, to)
		if err != nil {
			return http.StatusConflict, []byte(err.Error() + "\n")
		}
		return http.StatusOK, jsonLine(map[string]int{"line": line, "to": to, "moved": moved})
	case StatusPath + "/upgrade":
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, []byte("use POST\n")
		}
		if why := h.sysopRefusal(req); why != "" {
			return h.refuseSysop(req, why)
		}
		res, err := h.Upgrade(ctx)
		if err != nil {
			return http.StatusConflict, []byte(err.Error() + "\n")
		}
		return http.StatusOK, jsonLine(res)
	case StatusPath + "/broadcast", StatusPath + "/kick":
		if method != http.MethodPost {
			return http.StatusMethodNotAllowed, []byte("use POST\n")
		}
		if why := h.sysopRefusal(req); why != "" {
			return h.refuseSysop(req, why)
		}
		if strings.HasSuffix(path, "/broadcast") {
			text := strings.TrimSpace(string(req.Body))
			if text == "" || len(req.Body) > MaxSysopBody {
				return http.StatusBadRequest, []byte("the body is the text to broadcast (1 to 4096 bytes)\n")
			}
			return http.StatusOK, jsonLine(map[string]int{"callers": h.Broadcast(ctx, text)})
		}
		query, _ := url.ParseQuery(req.Header("QUERY"))
		connID := query.Get("conn_id")
		if connID == "" {
			return http.StatusBadRequest, []byte("kick needs ?conn_id=N\n")
		}
		if !h.Kick(ctx, connID) {
			return http.StatusNotFound, []byte("no caller online with that conn_id\n")
		}
		return http.StatusOK, jsonLine(map[string]string{"kicked": connID})
	}
	return http.StatusNotFound, []byte("not found\n")
}

func jsonLine(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}
