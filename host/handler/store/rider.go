package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// A journal rider: a caller's journal entries that ride in the store
// transaction of the caller's next write, instead of a transaction of
// their own before it.
//
// A host journals everything that enters a caller's session, and before
// a write call it must have stored the entries that lead up to the write:
// a replay must find the journal ending at that write (whose outcome it
// cannot know, so it diverges rather than writing twice), never before
// the request that led to it (it would then run the write again live).
// Written in the write's own transaction, the entries and the write are
// stored together or not at all: a host killed before the COMMIT leaves
// neither (the replay runs the write once, live), one killed after it
// leaves both (the journal ends at the write). The append checks the
// journal's count as any append does (see AppendJournal): a journal
// another host wrote meanwhile fails the whole transaction, so a host that
// lost a caller never writes for them.
//
// The session offers a Rider on the context of its store calls (see
// ContextRider); the first write transaction (writeTx) of the call takes
// it and writes it before its COMMIT, again on every attempt when
// PostgreSQL runs the transaction again. A Rider that no transaction took
// (the call wrote nothing, or failed before its COMMIT) stays offered.

// riderKeyType is the type of RiderKey.
type riderKeyType int

// RiderKey is the context key under which a context carries a *Rider
// (ContextRider looks it up). A context type of the caller's may answer
// it from a field (session's vmContext) instead of context.WithValue.
const RiderKey riderKeyType = 0

// ContextRider returns the Rider ctx carries, or nil.
func ContextRider(ctx context.Context) *Rider {
	r, _ := ctx.Value(RiderKey).(*Rider)
	return r
}

// WithRider returns ctx carrying r.
func WithRider(ctx context.Context, r *Rider) context.Context {
	return context.WithValue(ctx, RiderKey, r)
}

// The states of a Rider.
const (
	riderOffered   int32 = iota // no transaction holds it; it may be taken
	riderTaken                  // a transaction is writing it
	riderStored                 // committed with a write
	riderConflict               // the journal's count was not the write's: nothing was written
	riderWithdrawn              // taken back by the session before any transaction took it
)

// Rider is one journal write (JournalWrite: an append, or a new head)
// offered to a caller's next write transaction. Its state is read and
// changed atomically: a store call made off the caller's goroutine with
// the caller's context can at worst see it taken.
type Rider struct {
	write JournalWrite
	batch []byte // the entries packed (packJournal)
	state atomic.Int32
	err   error // the conflict, once riderConflict
}

// NewRider returns a Rider for w, or an error if w's entries cannot be
// stored (an entry past MaxJournalEntryBytes).
func NewRider(w JournalWrite) (*Rider, error) {
	batch, err := packJournal(w.ConnID, max(w.Count, 0), w.Entries)
	if err != nil {
		return nil, err
	}
	return &Rider{write: w, batch: batch}, nil
}

// Stored reports whether r was committed with a write.
func (r *Rider) Stored() bool { return r.state.Load() == riderStored }

// Conflict returns the error (wrapping ErrJournalConflict) of a Rider whose
// journal another host wrote meanwhile, or nil.
func (r *Rider) Conflict() error {
	if r.state.Load() != riderConflict {
		return nil
	}
	return r.err
}

// Entries is the number of entries r carries.
func (r *Rider) Entries() int { return len(r.write.Entries) }

// Withdraw takes r back if no transaction has taken it: none will.
func (r *Rider) Withdraw() { r.state.CompareAndSwap(riderOffered, riderWithdrawn) }

// take claims r for one transaction, if no other holds it and it is not
// settled yet.
func (r *Rider) take() bool { return r.state.CompareAndSwap(riderOffered, riderTaken) }

// writeIn writes r in tx, as writeJournal writes any journal; a count
// that does not follow fails with ErrJournalConflict (the transaction is
// then rolled back). It may run again in a new transaction (retryTx).
func (r *Rider) writeIn(ctx context.Context, tx txConn, appendSQL string) error {
	ok, err := writeJournal(ctx, tx, appendSQL, r.write, r.batch, nowMillis())
	if err != nil {
		return fmt.Errorf("journal rider: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: conn %s, count %d", ErrJournalConflict, r.write.ConnID, r.write.Count)
	}
	return nil
}

// settle records how the transaction that took r ended: committed
// (err nil), refused for its count, or failed otherwise, which offers r
// again to the call's next write transaction.
func (r *Rider) settle(err error, conflict error) {
	switch {
	case err == nil:
		r.state.Store(riderStored)
	case conflict != nil:
		r.err = conflict
		r.state.Store(riderConflict)
	default:
		r.state.Store(riderOffered)
	}
}

// ridingTx runs fn in one write transaction as writeTx does, with the
// Rider ctx carries, if it can take it, written after fn and before the
// COMMIT (on every attempt).
func (s *SQLite) ridingTx(ctx context.Context, p *pools, fn func(tx txConn) error) error {
	r := ContextRider(ctx)
	if r == nil || !r.take() {
		return s.plainWriteTx(ctx, p, fn)
	}
	var conflict error
	err := s.plainWriteTx(ctx, p, func(tx txConn) error {
		conflict = nil // PostgreSQL may run the transaction again
		if err := fn(tx); err != nil {
			return err
		}
		err := r.writeIn(ctx, tx, s.appendSQL())
		if errors.Is(err, ErrJournalConflict) {
			conflict = err
		}
		return err
	})
	r.settle(err, conflict)
	return err
}
