package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sort"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
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
	// Journal counts what the session journals of the workers running
	// cost the store (session.JournalStats): prompts journaled, journal
	// transactions and the sessions' writes in them.
	Journal session.JournalStats `json:"journal"`
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
	// Shared counts the shared module's events (live.go).
	Shared SharedStats `json:"shared"`
	// Events are the sysop's scheduled events, their next due times and
	// last runs (schedule.go); only the sysop sees them.
	Events []EventStatus `json:"events,omitempty"`
	// FTN is the FidoNet side: addresses, uplinks, binkd's state, the
	// tosser's and scanner's counters (Deps.FTN); only the sysop sees it.
	FTN any `json:"ftn,omitempty"`
	// AdoptedLines are the lines of dead hosts this host serves now
	// (adopt.go).
	AdoptedLines []int `json:"adopted_lines,omitempty"`
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
		Shared:        SharedStats{Stats: h.live.Stats(), WorkerBusy: h.eventsDropped.Load()},
		AdoptedLines:  h.adoptedLines(),
	}
	for _, w := range h.liveWorkers() {
		st.Sessions = st.Sessions.Add(w.table.Stats())
		js := w.table.JournalStats()
		st.StoreErrors += js.WriteErrors
		st.Journal = st.Journal.Add(js)
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
	st.Online, st.LoadError, st.HeapBytes, st.Goroutines, st.Events = nil, "", 0, 0, nil
	st.FTN = nil
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
	for i, w := range workers {
		callers, err := onWorker(ctx, w, statusTimeout, (*session.Table).Callers)
		if err != nil {
			h.log.Warn("status: a worker did not answer", "err", err)
			continue
		}
		for j := range callers {
			callers[j].Worker = i + 1
		}
		all = append(all, callers...)
	}
	sort.Slice(all, func(i, j int) bool { return session.LessConnID(all[i].ConnID, all[j].ConnID) })
	return all
}

// answerStatus is the status page (GET StatusPath): the public part
// (Status.public) for anyone, all of it for the sysop (isSysop), with the
// callers online unless the query says online=0.
func (h *Host) answerStatus(r *http.Request) (int, []byte) {
	var st Status
	if !h.isSysop(r) {
		st = h.counters().public()
	} else {
		st = h.Status()
		if r.URL.Query().Get("online") != "0" {
			st.Online = h.Callers(r.Context())
		}
		st.Events = h.EventList(r.Context())
		if h.deps.FTN != nil {
			st.FTN = h.deps.FTN(r.Context())
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error() + "\n")
	}
	return http.StatusOK, append(b, '\n')
}
