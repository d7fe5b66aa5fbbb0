package dispatch

import (
	"context"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// journalPruneInterval is how often the host deletes journals left by
// calls that ended without a word to it.
const journalPruneInterval = time.Minute

// pruneJournals deletes, every journalPruneInterval until ctx is done, the
// journals nobody wrote to for longer than a session may sit idle: their
// callers are gone (a disconnect notice lost while no host ran, or a
// front end that restarted).
func (h *Host) pruneJournals(ctx context.Context) {
	if !h.cfg.Session.Journal {
		return
	}
	idle := h.cfg.Session.IdleTimeout
	switch {
	case idle < 0:
		return // sessions never time out: neither do their journals
	case idle == 0:
		idle = session.DefaultIdleTimeout
	}
	tick := time.NewTicker(journalPruneInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, statusTimeout)
		n, err := h.deps.Store.PruneJournals(pctx, time.Now().Add(-idle-journalPruneInterval))
		cancel()
		switch {
		case err != nil:
			h.log.Warn("prune journals", "err", err)
		case n > 0:
			h.log.Info("journals of calls gone pruned", "entries", n)
		}
	}
}

// dropJournalsBefore drops every journal last written before cutoff (or
// in its millisecond).
func (h *Host) dropJournalsBefore(ctx context.Context, cutoff time.Time) {
	if !h.cfg.Session.Journal || cutoff.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	// Times are stored in milliseconds: one written in cutoff's own
	// millisecond goes too.
	n, err := h.deps.Store.PruneJournals(ctx, cutoff.Add(time.Millisecond))
	switch {
	case err != nil:
		h.log.Error("journals of a front end that went away could not be dropped", "err", err)
	case n > 0:
		h.log.Info("journals of a front end that went away dropped", "journals", n)
	}
}
