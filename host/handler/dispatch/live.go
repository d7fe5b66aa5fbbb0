package dispatch

import (
	"context"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// The shared module's events (host/handler/live): one hub per host,
// shared by every worker, so that a caller on one worker wakes a caller
// on another; on a phone line the hub also stores its events for the
// other lines' hosts, and reads theirs when its bell rings (Deps.Bell;
// without one, every live.DefaultPollInterval).

// SharedStats counts the shared module's events on this host: the hub's
// counters, and the events lost because the listener's worker had a full
// queue.
type SharedStats struct {
	live.Stats
	WorkerBusy int64 `json:"worker_busy"`
}

// newHub creates the host's hub (before the first generation is loaded).
func (h *Host) newHub() {
	var events store.SharedState
	if h.cfg.Line > 0 && h.deps.Store != nil {
		events = h.deps.Store
	}
	h.live = live.New(h.deliverEvent, events, h.log)
	if events != nil && h.deps.Bell != nil {
		h.live.SetBell(h.deps.Bell)
	}
	if h.deps.Store != nil {
		h.live.SetTables(h.deps.Store) // shared.hold's values, released at hang-up
	}
}

// startHub listens for other lines' events, on a phone line.
func (h *Host) startHub(ctx context.Context) {
	h.line.wg.Go(func() { h.live.Poll(ctx, 0) })
}

// deliverEvent hands ev to the worker of connID's caller, without
// waiting: a worker whose queue is full loses the event (counted), as it
// would refuse a line. The worker keeps it for the caller, and gives the
// caller every event kept in one resume when it has no more requests
// waiting (session.Table.DeliverEvents, run before each commit).
func (h *Host) deliverEvent(connID string, ev live.Event) {
	h.mu.Lock()
	o := h.owners[connID]
	h.mu.Unlock()
	if o == nil {
		return
	}
	w := o.w
	select {
	case w.inbox <- func() { w.table.Wake(connID, ev.Channel, ev.From, ev.Text, ev.Stamp) }:
	default:
		h.eventsDropped.Add(1)
		h.admit.noisy.Warn("event dropped: the caller's worker is too busy", "conn_id", connID, "channel", ev.Channel)
	}
}
