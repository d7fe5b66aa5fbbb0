package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// (frontend.Server) has it. Handlers are named by their send_ident, a
// host's Config.SenderID.
type Router interface {
	// RoutesOf lists the routes that lead to handler sendIdent now.
	RoutesOf(sendIdent string) []string
	// Hold keeps what callers send on the routes patterns waiting, in
	// order, until release is called.
	Hold(patterns ...string) (release func(), err error)
	// Sent counts the messages given so far to handler sendIdent.
	Sent(sendIdent string) (uint64, error)
	// Reroute sends what callers send on route pattern to handler
	// sendIdent.
	Reroute(pattern, sendIdent string) error
}

// drainIntakeTimeout bounds how long Drain waits for the drained host to
// take what the front end sent it before the hold: a host that stopped
// taking messages does not keep its callers held.
const drainIntakeTimeout = 5 * time.Second

// Drain moves the callers of src's line to dst's, without a line typed in
// the instant of the move overtaking another:
//
//  1. fe holds the routes that lead to src's handler now (its line's own,
//     and whatever was drained onto it): what callers type from now on
//     waits;
//  2. src takes everything fe sent it before, each line into its caller's
//     worker queue (AwaitTaken);
//  3. src lets go of its sessions, each after what its worker had queued
//     (DetachAll), and dst rebuilds them from their journals (AdoptAll);
//  4. the routes go to dst's handler, and are released.
//
// It returns how many callers dst rebuilt. Past two limits the move goes
// on as it did before the hold existed: src gets drainIntakeTimeout to take
// what was sent (a line still on its way then reaches src after the
// detach, where it can be lost), and each host's workers statusTimeout,
// side by side, to let go of their callers and to take them over (the
// callers of a src worker that did not let go stay online on src too,
// and the one of src and dst that stores the next line of theirs first
// answers it; those of a dst worker that did not take over are rebuilt at
// their next line). So a busy worker holds the routes for at most
// statusTimeout more on each side, beside the work itself (about a
// millisecond a caller, rebuilt adoptBatch at a time).
func Drain(ctx context.Context, fe Router, src, dst *Host) (int, error) {
	patterns := fe.RoutesOf(src.cfg.SenderID)
	release, err := fe.Hold(patterns...)
	if err != nil {
		return 0, fmt.Errorf("drain: %w", err)
	}
	defer release()
	sent, err := fe.Sent(src.cfg.SenderID)
	if err != nil {
		return 0, fmt.Errorf("drain: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, drainIntakeTimeout)
	err = src.AwaitTaken(waitCtx, sent)
	cancel()
	if err != nil {
		src.log.Warn("drain: the line's host did not take what was sent to it before the hold: a line on its way can be lost", "err", err)
	}
	detached, detachErr := src.DetachAll(ctx)
	moved := dst.AdoptAll(ctx, detached)
	for _, p := range patterns {
		if err := fe.Reroute(p, dst.cfg.SenderID); err != nil {
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
// to them: the host's part of draining its line (Drain), while the front
// end holds what they type. Each worker lets go of its callers at once,
// all workers side by side; a worker that does not start within
// statusTimeout keeps its callers (never half of them), and the error says
// how many. It returns the callers it let go of.
func (h *Host) DetachAll(ctx context.Context) ([]Detached, error) {
	if !h.cfg.Session.Journal {
		return nil, ErrNoJournals
	}
	h.mu.Lock()
	byWorker := map[*worker][]string{}
	for id, o := range h.owners {
		byWorker[o.w] = append(byWorker[o.w], id)
	}
	h.mu.Unlock()
	results := eachWorker(ctx, byWorker, detachBatch, func(t *session.Table, ids []string) []Detached {
		var out []Detached
		for _, id := range ids {
			if sender, ok := t.Detach(id); ok {
				out = append(out, Detached{id, sender})
			}
		}
		return out
	})
	var out []Detached
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("host: detach %d callers: %w", len(r.ids), r.err))
			continue
		}
		for _, d := range r.value {
			out = append(out, d)
			h.live.Moving(d.ConnID)   // no "hangs up" for a caller who goes on elsewhere
			h.nodes.Release(d.ConnID) // the caller goes to another line, and gets a node there
		}
		for _, id := range r.ids {
			h.settle(r.w, id, false)
		}
	}
	h.log.Info("line drained: sessions detached for another host", "callers", len(out))
	return out, errors.Join(errs...)
}

// AdoptAll rebuilds here, from their journals, the sessions another host
// detached: they are online here at once (who's online shows them) and
// wait at the prompt their callers see. Replies go out with this host's
// sender id. The workers rebuild their shares side by side, adoptBatch
// callers a job; a worker that does not start a job within statusTimeout
// rebuilds no more (those callers are rebuilt at their next line, as any
// host's). It returns how many it rebuilt.
func (h *Host) AdoptAll(ctx context.Context, callers []Detached) int {
	h.mu.Lock()
	byWorker := map[*worker][]string{}
	for _, c := range callers {
		o := h.owners[c.ConnID]
		if o == nil {
			o = h.newOwner(c.ConnID)
		}
		byWorker[o.w] = append(byWorker[o.w], c.ConnID)
	}
	h.mu.Unlock()
	results := eachWorker(ctx, byWorker, adoptBatch, func(t *session.Table, ids []string) int {
		n := 0
		for _, id := range ids {
			if t.Adopt(id, h.cfg.SenderID) {
				n++
			}
		}
		return n
	})
	n := 0
	for _, r := range results {
		if r.err != nil {
			h.log.Warn("adopt: the worker did not answer: its callers are rebuilt at their next line", "callers", len(r.ids), "err", r.err)
		}
		n += r.value
		for _, id := range r.ids {
			h.settle(r.w, id, false)
		}
	}
	return n
}

// workerResult is what eachWorker's fn gave for callers ids of worker w,
// or why it did not run for them.
type workerResult[T any] struct {
	w     *worker
	ids   []string
	value T
	err   error
}

// Batches of eachWorker: a detach is quick, so a worker lets go of all its
// callers in one job; a rebuild replays a journal (about a millisecond),
// so a worker takes over adoptBatch callers a job, and its other callers'
// lines go in between.
const (
	detachBatch = 1 << 30
	adoptBatch  = 32
)

// eachWorker runs fn on each worker of byWorker for its callers, batch at
// a time, all workers side by side, and returns the results. A batch runs
// only if its worker starts it within statusTimeout; if one does not, it
// never runs, and neither do that worker's later batches: their result's
// error means nothing was done for its callers.
func eachWorker[T any](ctx context.Context, byWorker map[*worker][]string, batch int, fn func(*session.Table, []string) T) []workerResult[T] {
	results := make(chan []workerResult[T], len(byWorker))
	for w, ids := range byWorker {
		go func() {
			var rs []workerResult[T]
			for len(ids) > 0 {
				part := ids[:min(batch, len(ids))]
				ids = ids[len(part):]
				v, err := onWorkerInTime(ctx, w, statusTimeout, func(t *session.Table) T { return fn(t, part) })
				if err != nil {
					var zero T
					rs = append(rs, workerResult[T]{w, append(part, ids...), zero, err})
					break
				}
				rs = append(rs, workerResult[T]{w, part, v, nil})
			}
			results <- rs
		}()
	}
	var out []workerResult[T]
	for range byWorker {
		out = append(out, <-results...)
	}
	return out
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

// intakeWait is one AwaitTaken: done closes once n messages were taken,
// unless ctx (the waiter's) ended first.
type intakeWait struct {
	ctx  context.Context
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
		switch {
		case in.n >= w.n:
			close(w.done)
		case w.ctx.Err() == nil:
			kept = append(kept, w)
		}
	}
	clear(in.pending[len(kept):])
	in.pending = kept
}

// await ends w at once if its count was reached, or keeps it, with the
// waits still waited for.
func (in *intake) await(w intakeWait) {
	if in.n >= w.n {
		close(w.done)
		return
	}
	in.pending = slices.DeleteFunc(in.pending, func(p intakeWait) bool { return p.ctx.Err() != nil })
	in.pending = append(in.pending, w)
}

// AwaitTaken returns once the host has taken n messages from the front
// end since it started and handed each on: a caller's line is then in
// their worker's queue, ahead of anything asked of that worker later
// (DetachAll). The front end counts what it sent (frontend.Server.Sent).
// It returns ctx's error if ctx ends first, or if the host is not serving.
func (h *Host) AwaitTaken(ctx context.Context, n uint64) error {
	w := intakeWait{ctx: ctx, n: n, done: make(chan struct{})}
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
