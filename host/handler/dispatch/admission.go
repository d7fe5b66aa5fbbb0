package dispatch

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// What one connection may cost the dispatch loop. The loop never waits for
// a worker: a caller whose lines pile up, or whose worker's queue is full,
// has the line refused with a word; a caller whose session ended has what
// they sent after it dropped until the front end says they are gone.
const (
	// DefaultMaxQueuedPerCaller bounds the lines of one caller waiting
	// for (or being handled by) their worker; past it a line is refused.
	DefaultMaxQueuedPerCaller = 8
	// DefaultWorkerQueue bounds the jobs waiting for one worker.
	DefaultWorkerQueue = 1024
	// endedTTL is how long the host drops the lines of a caller whose
	// session ended, if no disconnect notice comes first (the front ends
	// send none after the handler hangs up). Lines still in flight then
	// arrive within seconds; conn ids are not reused before the caller's
	// connection is gone.
	endedTTL = 2 * time.Minute
	// maxEnded bounds the conn ids remembered as ended; past it the
	// oldest are forgotten first.
	maxEnded = 1 << 16
)

// busyText is what a caller whose line was refused sees, with a prompt.
const busyText = "The board is busy: that line was not taken. Try again in a moment."

// AdmissionStats counts what the dispatch loop refused or dropped.
type AdmissionStats struct {
	// DroppedAfterEnd counts lines from callers whose session had ended
	// (flood, kick, idle, script end, error), dropped without a new
	// session until their connection was gone.
	DroppedAfterEnd int64 `json:"dropped_after_end"`
	// RefusedQueued counts lines refused because the caller already had
	// MaxQueuedPerCaller lines waiting.
	RefusedQueued int64 `json:"refused_queued"`
	// RefusedBusy counts lines refused because the caller's worker had a
	// full queue.
	RefusedBusy int64 `json:"refused_busy"`
	// DeferredDisconnects counts disconnect notices that found their
	// worker's queue full and were delivered once there was room.
	DeferredDisconnects int64 `json:"deferred_disconnects"`
	// DroppedKeys counts keystroke-mode requests that found the caller's
	// queue or worker full: dropped unanswered (keys.go).
	DroppedKeys int64 `json:"dropped_keys"`
}

// admission is the dispatch loop's bookkeeping for the limits above.
type admission struct {
	ended endedConns
	// noisy writes the warnings a caller can cause at will (refused and
	// dropped lines, bad messages), a few per interval.
	noisy *lograte.Limiter

	droppedAfterEnd, refusedQueued, refusedBusy, deferredDisconnects atomic.Int64
	droppedKeys                                                      atomic.Int64
}

func (a *admission) stats() AdmissionStats {
	return AdmissionStats{
		DroppedAfterEnd:     a.droppedAfterEnd.Load(),
		RefusedQueued:       a.refusedQueued.Load(),
		RefusedBusy:         a.refusedBusy.Load(),
		DeferredDisconnects: a.deferredDisconnects.Load(),
		DroppedKeys:         a.droppedKeys.Load(),
	}
}

// endedConns remembers the conn ids whose session ended, until their
// disconnect notice, for at most endedTTL, and at most maxEnded of them.
// Safe for concurrent use: workers mark, the dispatch loop looks.
type endedConns struct {
	mu    sync.Mutex
	at    map[string]time.Time
	order []endedConn // oldest first; may hold ids forgotten since
}

type endedConn struct {
	id string
	at time.Time
}

// mark remembers that connID's session ended now.
func (e *endedConns) mark(connID string) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.at == nil {
		e.at = make(map[string]time.Time)
	}
	e.at[connID] = now
	e.order = append(e.order, endedConn{connID, now})
	for len(e.order) > 0 && (len(e.at) > maxEnded || now.Sub(e.order[0].at) > endedTTL || len(e.order) > 2*maxEnded) {
		old := e.order[0]
		e.order = e.order[1:]
		if at, ok := e.at[old.id]; ok && at.Equal(old.at) {
			delete(e.at, old.id)
		}
	}
}

// has reports whether connID's session ended and its caller may still be
// sending.
func (e *endedConns) has(connID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.at[connID]
	return ok && time.Since(at) <= endedTTL
}

// forget drops connID: its caller is gone (the disconnect notice came).
func (e *endedConns) forget(connID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.at, connID)
}

// Reset forgets every ended session: for a front end that restarted and
// numbers its callers from 1 again.
func (e *endedConns) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at, e.order = nil, nil
}

// hungUp is the session tables' Deps.HungUp: connID's session ended.
func (h *Host) hungUp(connID string) { h.admit.ended.mark(connID) }

// ForgetEndedSessions forgets which conn ids had their session ended, so
// that their lines start sessions again: call it when the front end
// restarted and reuses conn ids.
func (h *Host) ForgetEndedSessions() { h.admit.ended.Reset() }

// dropAfterEnd reports whether req is a line from a caller whose session
// ended, and counts it.
func (h *Host) dropAfterEnd(req *m2proto.Request) bool {
	if req.IsDisconnect() || !h.admit.ended.has(req.ConnID) {
		return false
	}
	h.admit.droppedAfterEnd.Add(1)
	h.admit.noisy.Warn("line after the session ended: dropped", "conn_id", req.ConnID)
	return true
}

// enqueue queues req for o's worker without waiting (caller holds Host.mu;
// fresh says o was just created for req). It returns what to do once
// Host.mu is released: nothing, or refuse the line. A disconnect notice is
// never refused: if the queue is full it is kept for the worker.
func (h *Host) enqueue(o *owner, req *m2proto.Request, fresh bool) (then func()) {
	w := o.w
	if req.IsDisconnect() {
		select {
		case w.inbox <- h.job(w, req):
			o.pending++
		default:
			if o.pending > 0 {
				o.disconnect = req // after the lines queued before it
			} else {
				h.deferDisconnect(w, req)
			}
		}
		return func() {}
	}
	counter, why := &h.admit.refusedQueued, "too many lines waiting"
	if o.pending < h.queueLimit(req) {
		select {
		case w.inbox <- h.job(w, req):
			o.pending++
			o.droppedKeys = 0
			return func() {}
		default:
		}
		counter, why = &h.admit.refusedBusy, "worker queue full"
		if fresh {
			delete(h.owners, req.ConnID)
			w.owned--
			h.nudgeLine()
		}
	}
	if isKeys(req.Body) {
		h.dropKeys(o, req, why)
		return func() {}
	}
	answer, queued := !o.refused, o.pending > 0
	o.refused = true
	if o.pending > 0 {
		o.unchargedRefusals++ // charged when the next queued line is handled
	}
	return func() { h.refuseLine(req, answer, queued, counter, why) }
}

// job is what w runs for req: a line that was queued before the caller's
// session ended is dropped; a disconnect notice ends the session and
// forgets that it ended.
func (h *Host) job(w *worker, req *m2proto.Request) func() {
	return func() {
		if !h.dropAfterEnd(req) {
			w.table.Handle(req)
			if req.IsDisconnect() {
				h.admit.ended.forget(req.ConnID)
			}
		}
		h.chargeRefusals(w, req.ConnID, h.settle(w, req.ConnID, true))
	}
}

// chargeRefusals counts lines the dispatch loop refused against the
// caller's flood limit, as if the session had seen them: a flooder whose
// lines mostly pile up here, because the worker is slower than the flood,
// is cut off as surely as one whose lines all reach the session. Each
// refused line was counted while one of the caller's lines was still
// queued, so the handling of a later one charges it.
func (h *Host) chargeRefusals(w *worker, connID string, refusals int) {
	if refusals == 0 {
		return
	}
	if w.table.ChargeRefused(connID, refusals) {
		h.settle(w, connID, false) // the session ended: forget its owner
	}
}

// maxQueuedPerCaller is Config.MaxQueuedPerCaller or its default.
func (h *Host) maxQueuedPerCaller() int {
	if h.cfg.MaxQueuedPerCaller > 0 {
		return h.cfg.MaxQueuedPerCaller
	}
	return DefaultMaxQueuedPerCaller
}

// refuseLine answers a line the dispatch loop could not queue, once per
// run of refusals (o.refused, guarded by Host.mu, is cleared when one of
// the caller's lines is handled), so a flooder does not get a reply per
// line. A caller with lines still queued (queued) gets the refusal as
// text: the answers to those lines bring their prompts. One with none
// gets it as a prompt, so that a client waiting for one goes on; the
// prompt is secret, since the board's own prompt may have been (a
// password), and the caller's next line must not be echoed then.
func (h *Host) refuseLine(req *m2proto.Request, answer, queued bool, counter *atomic.Int64, why string) {
	counter.Add(1)
	h.admit.noisy.Warn("line refused", "conn_id", req.ConnID, "why", why)
	if !answer {
		return
	}
	msg := message.Screen(busyText)
	if !queued {
		msg = message.Prompt(busyText, luaapi.DefaultPromptChar)
		msg.Secret = true
	}
	_ = h.sendMessage(req.Sender, []string{req.ConnID}, msg)
}

// deferDisconnect keeps a disconnect notice that found w's queue full, for
// w to handle as soon as it can (caller holds Host.mu). Notices are kept
// per conn id, so there are at most as many as w has callers.
func (h *Host) deferDisconnect(w *worker, req *m2proto.Request) {
	h.admit.deferredDisconnects.Add(1)
	if w.disconnects == nil {
		w.disconnects = make(map[string]*m2proto.Request)
	}
	w.disconnects[req.ConnID] = req
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// handleDisconnects handles, on w's goroutine, the disconnect notices that
// waited for room in its queue.
func (h *Host) handleDisconnects(w *worker) {
	h.mu.Lock()
	pending := w.disconnects
	w.disconnects = nil
	h.mu.Unlock()
	for id, req := range pending {
		w.table.Handle(req)
		h.admit.ended.forget(id)
		h.settle(w, id, false)
	}
}
