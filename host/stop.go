package host

import (
	"context"
	"time"

	"github.com/m2bbs/m2bbs/host/session"
)

// StopTimeout bounds how long a stopping host answers the lines it had
// received when it was asked to stop.
const StopTimeout = 2 * time.Second

// receiveStopper is a Transport that can stop receiving on its own, leaving
// what the front end sends next for the next host (zmqtransport does).
type receiveStopper interface{ StopReceiving() }

// flusher is a Transport that can wait until its queued replies are sent.
type flusher interface {
	Flush(timeout time.Duration) bool
}

// stopServing is how a host asked to stop leaves no caller unanswered:
// the transport stops receiving (the front end then holds new lines for
// the next host), every line already received is handled, the workers
// finish them and their replies are sent, all within StopTimeout. Journals
// stay, so the next host carries the calls on.
func (h *Host) stopServing(ctx context.Context) {
	rs, ok := h.transport.(receiveStopper)
	if !ok {
		return
	}
	rs.StopReceiving()
	ctx, cancel := context.WithTimeout(ctx, StopTimeout)
	defer cancel()
	handled := 0
	for open := true; open; {
		select {
		case msg, ok := <-h.transport.Messages():
			if !ok {
				open = false
				continue
			}
			handled++
			h.handle(ctx, msg)
		case <-ctx.Done():
			h.log.Warn("stopping: lines left unanswered", "err", ctx.Err())
			return
		}
	}
	h.mu.Lock()
	workers := h.liveWorkers()
	h.mu.Unlock()
	for _, w := range workers {
		// Behind everything queued; the worker commits and sends after it.
		if _, err := onWorker(ctx, w, StopTimeout, func(t *session.Table) bool { t.Commit(); return true }); err != nil {
			h.log.Warn("stopping: a worker did not finish its lines", "err", err)
		}
	}
	if f, ok := h.transport.(flusher); ok && !f.Flush(time.Until(deadlineOf(ctx))) {
		h.log.Warn("stopping: replies still queued")
	}
	if handled > 0 {
		h.log.Info("stopping: lines received before the stop answered", "lines", handled)
	}
}

// deadlineOf is ctx's deadline (it has one).
func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
