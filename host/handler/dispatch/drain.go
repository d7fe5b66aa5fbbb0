package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// Detached is a caller whose session a host let go of, journal kept.
type Detached struct {
	ConnID string
	// Sender is the handler ident the caller's requests came tagged with.
	Sender string
}

// Router is the front end's part in a drain; the built-in front end
// (frontend.Server) has it.
type Router interface {
	// Hold keeps what callers send on the routes patterns waiting, in
	// order, until release is called.
	Hold(patterns ...string) (release func(), err error)
	// Sent counts the messages given so far to the handler serving route
	// pattern.
	Sent(pattern string) (uint64, error)
	// Reroute sends what callers send on route pattern to the handler of
	// route to.
	Reroute(pattern, to string) error
}

// DrainTakenTimeout bounds how long Drain waits for the drained host to
// take what the front end sent it before the hold: a host that stopped
// taking messages does not keep its callers held.
const DrainTakenTimeout = 5 * time.Second

// Drain moves the callers of h's line to dst's, without a line typed in
// the instant of the move overtaking another. patterns are the routes
// that reach h, its line's own first; to is a route of dst's.
//
//  1. fe holds patterns: what callers type from now on waits;
//  2. h takes everything fe sent it before, each line into its caller's
//     worker queue (AwaitTaken);
//  3. h lets go of its sessions, each after what its worker had queued
//     (DetachAll), and dst rebuilds them from their journals (AdoptAll);
//  4. patterns go to to's handler, and are released.
//
// It returns how many callers dst rebuilt. If h cannot let go of every
// session, the routes move all the same: dst rebuilds the others from
// their journals at their next line.
func Drain(ctx context.Context, fe Router, h, dst *Host, patterns []string, to string) (int, error) {
	if len(patterns) == 0 {
		return 0, errors.New("drain: no routes to move")
	}
	release, err := fe.Hold(patterns...)
	if err != nil {
		return 0, fmt.Errorf("drain: %w", err)
	}
	defer release()
	sent, err := fe.Sent(patterns[0])
	if err != nil {
		return 0, fmt.Errorf("drain: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, DrainTakenTimeout)
	err = h.AwaitTaken(waitCtx, sent)
	cancel()
	if err != nil {
		// The move goes on: a line still on its way to h is answered by
		// dst if it comes after the move, or not at all.
		h.log.Warn("drain: the line's host did not take what was sent to it before the hold", "err", err)
	}
	detached, detachErr := h.DetachAll(ctx)
	moved := dst.AdoptAll(ctx, detached)
	for _, p := range patterns {
		if err := fe.Reroute(p, to); err != nil {
			return moved, fmt.Errorf("drain: %w", err)
		}
	}
	release()
	if detachErr != nil {
		return moved, fmt.Errorf("drain: %w", detachErr)
	}
	return moved, nil
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

// intake counts the messages the dispatch loop has taken from the front
// end and handed on (to a worker's queue, or the HTTP server), so that a
// drain knows when line 1's host has everything the front end sent it
// before the route was held. Only the dispatch loop touches n and pending.
type intake struct {
	n       uint64
	pending []intakeWait
	waits   chan intakeWait
}

// intakeWait is one AwaitTaken: done closes once n messages were taken.
type intakeWait struct {
	n    uint64
	done chan struct{}
}

// took counts msg, unless it is the transport's own note that the front
// end went away, and ends the waits it completes.
func (in *intake) took(msg []byte) {
	if _, gone := parseFrontEndGone(msg); gone {
		return
	}
	in.n++
	if len(in.pending) == 0 {
		return
	}
	kept := in.pending[:0]
	for _, w := range in.pending {
		if in.n >= w.n {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	clear(in.pending[len(kept):])
	in.pending = kept
}

// await ends w at once if its count was reached, or keeps it.
func (in *intake) await(w intakeWait) {
	if in.n >= w.n {
		close(w.done)
		return
	}
	in.pending = append(in.pending, w)
}

// AwaitTaken returns once the host has taken n messages from the front
// end since it started and handed each on: a caller's line is then in
// their worker's queue, ahead of anything asked of that worker later
// (DetachAll). The front end counts what it sent (frontend.Server.Sent).
// It returns ctx's error if ctx ends first, or if the host is not serving.
func (h *Host) AwaitTaken(ctx context.Context, n uint64) error {
	w := intakeWait{n: n, done: make(chan struct{})}
	select {
	case h.intake.waits <- w:
	case <-ctx.Done():
		return fmt.Errorf("host: await %d messages: %w", n, ctx.Err())
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("host: await %d messages: %w", n, ctx.Err())
	}
}
