package dispatch

import (
	"context"
	"fmt"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

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
			h.live.Moving(c.id)   // no "hangs up" for a caller who goes on elsewhere
			h.nodes.Release(c.id) // the caller goes to another line, and gets a node there
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
