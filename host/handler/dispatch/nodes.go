package dispatch

import (
	"context"

	"github.com/m2bbs/m2bbs/host/handler/nodes"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// initNodes makes the allocator of the line's node numbers, with the
// nodes a host before this one kept in the store for callers it may
// resume.
func (h *Host) initNodes() {
	ctx, cancel := context.WithTimeout(context.Background(), nodes.StoreTimeout)
	defer cancel()
	var kept store.NodeStore
	if ns, ok := h.deps.Store.(store.NodeStore); ok {
		kept = ns
	}
	h.nodes = nodes.New(ctx, h.cfg.Line, kept, h.log)
}

// reapDoors kills what the doors of a host on the same folder, killed
// with SIGKILL, left running (a door ignoring SIGHUP, a setsid child).
func (h *Host) reapDoors() {
	n, err := h.doors.Reap()
	if err != nil {
		h.log.Warn("doors of a host gone not all reaped", "err", err)
	}
	if n > 0 {
		h.log.Warn("doors of a host gone killed", "processes", n)
	}
}

// pruneNodes frees the nodes of callers whose journal is gone: their
// calls ended while no host ran, or their journals were just dropped.
func (h *Host) pruneNodes(ctx context.Context) {
	lister, ok := h.deps.Store.(nodes.JournalLister)
	if !ok {
		return
	}
	if err := h.nodes.Prune(ctx, lister, h.online); err != nil {
		h.log.Warn("nodes not pruned", "err", err)
	}
}

// post is the session tables' Deps.Post for w: fn runs on w's goroutine
// (a native door's output, its end), then the caller is settled as after
// a line. It waits while w's results are full; false if w has stopped or
// ctx (the caller's session) ended first.
func (h *Host) post(w *worker) func(ctx context.Context, connID string, fn func()) bool {
	return func(ctx context.Context, connID string, fn func()) bool {
		select {
		case w.results <- func() {
			fn()
			h.settle(w, connID, false)
		}:
			return true
		case <-w.exited:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
