package dispatch

import (
	"context"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// owner records which worker serves a caller, how many of the caller's
// messages are still queued for it, and who the caller is once logged in.
type owner struct {
	w       *worker
	pending int
	user    string
	// refused says the caller's last line was refused and answered; the
	// next refusals are not, until one of their lines is handled.
	refused bool
	// unchargedRefusals counts the caller's lines refused since one of
	// their lines was last handled, for the session's flood limit.
	unchargedRefusals int
	// droppedKeys counts the caller's keys requests dropped in a row
	// (keys.go).
	droppedKeys int
	// disconnect is the caller's disconnect notice, kept until their
	// queued lines are handled when it found the worker's queue full.
	disconnect *m2proto.Request
}

// route queues a JSON-socket request for the worker that owns the caller,
// picking the least busy worker of the current generation for a new one.
// It never waits for a worker (see admission.go).
func (h *Host) route(ctx context.Context, req *m2proto.Request) {
	if h.watch.on.Load() && h.watchedLine(req) {
		return // a chat line: for the sysop, not the script (watch.go)
	}
	if h.dropAfterEnd(req) {
		return
	}
	h.mu.Lock()
	o := h.owners[req.ConnID]
	fresh := o == nil
	if o == nil {
		if req.IsDisconnect() {
			h.mu.Unlock()
			h.admit.ended.forget(req.ConnID)
			return // a caller with no session left
		}
		if len(h.owners) >= h.cfg.MaxCallers {
			gen := h.current
			h.mu.Unlock()
			h.refuseBusy(req, gen)
			return
		}
		o = h.newOwner(req.ConnID)
	}
	refuse := h.enqueue(o, req, fresh)
	h.mu.Unlock()
	refuse()
}

// newOwner gives connID to the least busy worker of the current
// generation (caller holds Host.mu).
func (h *Host) newOwner(connID string) *owner {
	o := &owner{w: h.current.leastBusy()}
	o.w.owned++
	h.owners[connID] = o
	h.nudgeLine()
	return o
}

// settle forgets a caller's owner once the worker has no session for it
// and nothing queued; handled says a queued message was just handled. It
// returns how many of the caller's lines were refused since then, which
// the caller of settle charges to the session (see chargeRefusals).
func (h *Host) settle(w *worker, connID string, handled bool) (refusals int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.owners[connID]
	if o == nil {
		return 0
	}
	if handled {
		o.pending-- // queued messages count wherever the caller went since
		o.refused = false
		refusals, o.unchargedRefusals = o.unchargedRefusals, 0
		if o.pending == 0 && o.disconnect != nil {
			h.deferDisconnect(o.w, o.disconnect)
			o.disconnect = nil
		}
	}
	if o.w != w {
		return refusals
	}
	if o.pending == 0 && !w.table.Has(connID) {
		delete(h.owners, connID)
		h.live.Forget(connID)
		w.owned--
		h.nudgeLine()
	}
	return refusals
}
