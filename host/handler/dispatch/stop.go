package dispatch

import (
	"context"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
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

// stopQuiet is how long a stopping host goes on receiving after the last
// line it got: ZeroMQ gives the front end no word that a handler is going,
// and a line it sends in the instant the handler's socket closes is lost,
// so the host closes it when its callers are quiet (or StopTimeout/2 after
// the stop, whichever comes first).
const stopQuiet = 100 * time.Millisecond

// stopServing is how a host asked to stop leaves no caller unanswered:
// it answers what comes until its callers are quiet, then the transport
// stops receiving (the front end then holds new lines for the next host),
// every line received is handled, the workers finish them and their
// replies are sent, all within StopTimeout. Journals stay, so the next
// host carries the calls on.
func (h *Host) stopServing(ctx context.Context) {
	rs, ok := h.transport.(receiveStopper)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, StopTimeout)
	defer cancel()
	handled, ok := h.answerUntilQuiet(ctx, rs)
	if !ok {
		h.log.Warn("stopping: lines left unanswered", "err", ctx.Err())
		return
	}
	h.finishWorkers(ctx)
	if f, ok := h.transport.(flusher); ok && !f.Flush(time.Until(deadlineOf(ctx))) {
		h.log.Warn("stopping: replies still queued")
	}
	if handled > 0 {
		h.log.Info("stopping: lines typed meanwhile answered", "lines", handled)
	}
}

// answerUntilQuiet handles what the front end sends until the callers are
// quiet (or StopTimeout/2 passed), stops receiving and handles what was
// received. It returns how many messages it handled, and false if ctx
// ended first.
func (h *Host) answerUntilQuiet(ctx context.Context, rs receiveStopper) (int, bool) {
	quiet := time.NewTimer(stopQuiet)
	defer quiet.Stop()
	latest := time.NewTimer(StopTimeout / 2)
	defer latest.Stop()
	handled, receiving := 0, true
	stopReceiving := func() {
		if receiving {
			receiving = false
			rs.StopReceiving()
		}
	}
	for {
		select {
		case msg, ok := <-h.transport.Messages():
			if !ok {
				return handled, true
			}
			handled++
			h.handle(ctx, msg)
			if receiving {
				quiet.Reset(stopQuiet)
			}
		case <-quiet.C:
			stopReceiving()
		case <-latest.C:
			stopReceiving()
		case <-ctx.Done():
			return handled, false
		}
	}
}

// finishWorkers waits until every worker has handled what it was given
// and committed (it then sends the replies).
func (h *Host) finishWorkers(ctx context.Context) {
	h.mu.Lock()
	workers := h.liveWorkers()
	h.mu.Unlock()
	for _, w := range workers {
		// Behind everything queued; the worker commits and sends after it.
		if _, err := onWorker(ctx, w, StopTimeout, func(t *session.Table) bool { t.Commit(); return true }); err != nil {
			h.log.Warn("stopping: a worker did not finish its lines", "err", err)
		}
	}
}

// deadlineOf is ctx's deadline (it has one).
func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
