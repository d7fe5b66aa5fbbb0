package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/host/session"
)

// ErrNoJournals is returned by Upgrade when sessions are not journaled:
// without a journal a session cannot move.
var ErrNoJournals = errors.New("host: sessions are not journaled: callers cannot be moved")

// UpgradeResult says what Upgrade did.
type UpgradeResult struct {
	// Version is the scripts version every caller now runs.
	Version int `json:"version"`
	// Moved counts the callers rebuilt on it by replay (or restarted at
	// the main menu where their part of the scripts changed); Lost those
	// whose session could not be rebuilt.
	Moved int `json:"moved"`
	Lost  int `json:"lost"`
}

// Upgrade moves every caller online onto the scripts as they are now:
// edits not loaded yet are loaded first (a script that fails to load stops
// the upgrade, and the error says why), then each caller running an older
// version is detached from its worker, journal kept, and rebuilt on a
// worker of the new version by replay. A caller whose part of the scripts
// changed is told the board was upgraded and restarted at the main menu.
func (h *Host) Upgrade(ctx context.Context) (UpgradeResult, error) {
	if !h.cfg.Session.Journal {
		return UpgradeResult{}, ErrNoJournals
	}
	fp, err := fingerprint(h.watchedDirs())
	if err != nil {
		return UpgradeResult{}, fmt.Errorf("host: upgrade: %w", err)
	}
	h.mu.Lock()
	changed := fp != h.fingerprt
	h.mu.Unlock()
	if changed {
		h.reload(ctx, fp)
	}
	h.mu.Lock()
	if h.loadErr != "" {
		err := fmt.Errorf("host: upgrade: the scripts do not load: %s", h.loadErr)
		h.mu.Unlock()
		return UpgradeResult{}, err
	}
	gen := h.current
	type move struct {
		connID   string
		from, to *worker
		adopted  chan bool
	}
	var moves []move
	for id, o := range h.owners {
		if o.w.gen == gen {
			continue
		}
		m := move{connID: id, from: o.w, to: gen.leastBusy(), adopted: make(chan bool, 1)}
		detached := make(chan string, 1)
		// The adoption is queued on the new worker now, under h.mu, so it
		// comes before anything routed there from now on; the detach goes
		// behind whatever the old worker has queued for this caller. Both
		// without blocking: a worker's jobs take h.mu too.
		select {
		case m.to.inbox <- func() {
			sender := <-detached
			m.adopted <- sender != "" && m.to.table.Adopt(id, sender)
			h.settle(m.to, id, false)
		}:
		default:
			h.log.Warn("upgrade: worker queue full; caller stays on the old version", "conn_id", id)
			continue
		}
		select {
		case m.from.inbox <- func() {
			sender, ok := m.from.table.Detach(id)
			h.mu.Lock()
			if !ok && m.from.table.Has(id) {
				// Not journaled: it cannot move, so it stays here.
				if o := h.owners[id]; o != nil && o.w == m.to {
					o.w = m.from
					m.to.owned--
				}
				sender = ""
			} else {
				// Only now may a retired worker count this caller gone
				// (and stop once it has none left).
				m.from.owned--
			}
			h.mu.Unlock()
			detached <- sender
		}:
		default:
			detached <- "" // the adoption does nothing
			h.log.Warn("upgrade: worker queue full; caller stays on the old version", "conn_id", id)
			continue
		}
		o.w = m.to
		m.to.owned++
		moves = append(moves, m)
	}
	h.mu.Unlock()

	res := UpgradeResult{Version: gen.version}
	for _, m := range moves {
		select {
		case ok := <-m.adopted:
			if ok {
				res.Moved++
			} else {
				res.Lost++
				h.log.Warn("upgrade: caller could not be moved", "conn_id", m.connID)
			}
		case <-ctx.Done():
			return res, fmt.Errorf("host: upgrade: %w", ctx.Err())
		}
	}
	h.log.Info("upgrade: callers moved onto the current scripts", "version", gen.version, "moved", res.Moved, "lost", res.Lost)
	return res, nil
}

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

// Detached is a caller whose session a host let go of, journal kept.
type Detached struct {
	ConnID string
	// Sender is the handler ident the caller's requests came tagged with.
	Sender string
}

// DetachAll forgets every caller's session, journals kept, without a word
// to them: the host's part of draining its line, once the front end sends
// the line's callers elsewhere. It returns the callers it let go of.
func (h *Host) DetachAll(ctx context.Context) ([]Detached, error) {
	if !h.cfg.Session.Journal {
		return nil, ErrNoJournals
	}
	h.mu.Lock()
	type held struct {
		id string
		w  *worker
	}
	var all []held
	for id, o := range h.owners {
		all = append(all, held{id, o.w})
	}
	h.mu.Unlock()
	var out []Detached
	for _, c := range all {
		sender, ok, err := onWorkerPair(ctx, c.w, func(t *session.Table) (string, bool) { return t.Detach(c.id) })
		if err != nil {
			return out, fmt.Errorf("host: detach %s: %w", c.id, err)
		}
		if ok {
			out = append(out, Detached{c.id, sender})
		}
		h.settle(c.w, c.id, false)
	}
	h.log.Info("line drained: sessions detached for another host", "callers", len(out))
	return out, nil
}

// AdoptAll rebuilds here, from their journals, the sessions another host
// detached: they are online here at once (who's online shows them) and
// wait at the prompt their callers see. Replies go out with this host's
// sender id. It returns how many it rebuilt.
func (h *Host) AdoptAll(ctx context.Context, callers []Detached) int {
	n := 0
	for _, c := range callers {
		h.mu.Lock()
		o := h.owners[c.ConnID]
		if o == nil {
			o = h.newOwner(c.ConnID)
		}
		w := o.w
		h.mu.Unlock()
		ok, err := onWorker(ctx, w, statusTimeout, func(t *session.Table) bool { return t.Adopt(c.ConnID, h.cfg.SenderID) })
		if err != nil {
			h.log.Warn("adopt: the worker did not answer", "conn_id", c.ConnID, "err", err)
		}
		if ok {
			n++
		}
		h.settle(w, c.ConnID, false)
	}
	return n
}

// onWorkerPair is onWorker for a function with two results.
func onWorkerPair[A, B any](ctx context.Context, w *worker, fn func(*session.Table) (A, B)) (A, B, error) {
	type pair struct {
		a A
		b B
	}
	p, err := onWorker(ctx, w, statusTimeout, func(t *session.Table) pair {
		a, b := fn(t)
		return pair{a, b}
	})
	return p.a, p.b, err
}
