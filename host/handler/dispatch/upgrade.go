package dispatch

import (
	"context"
	"errors"
	"fmt"
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
