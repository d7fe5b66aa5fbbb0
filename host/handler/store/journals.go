package store

import (
	"context"
	"time"
)

// Journals keeps one journal per online caller, keyed by the front end's
// conn id: an append-only list of opaque entries (the session package
// encodes them) that lets any host sharing the store rebuild the caller's
// session. Implementations are safe for concurrent use.
type Journals interface {
	// A journal's count is how many entries were ever written to it: it
	// only grows (compacting adds the new entries to it), so two hosts
	// writing one journal cannot both succeed from the same count.
	//
	// AppendJournal adds entries to connID's journal if its count is
	// exactly count, else fails with ErrJournalConflict (another host
	// wrote or dropped it meanwhile). The new count is count+len(entries).
	AppendJournal(ctx context.Context, connID string, count int, entries [][]byte) error
	// LoadJournal returns connID's entries in order and its count (none
	// and 0 if it has no journal).
	LoadJournal(ctx context.Context, connID string) (entries [][]byte, count int, err error)
	// ResetJournal replaces connID's entries: how a session starts
	// (count < 0: whatever was there goes; the new count is
	// len(entries)) and is compacted (count >= 0: the journal's count
	// must be exactly that, else ErrJournalConflict; the new count is
	// count+len(entries)).
	ResetJournal(ctx context.Context, connID string, count int, entries [][]byte) error
	// WriteJournals stores several journals' appends and resets in one
	// transaction (a group commit: one durable write for many callers).
	// errs[i] is ErrJournalConflict for a write that lost as AppendJournal
	// or ResetJournal would have, nil for one that was stored; err, if not
	// nil, is for them all (nothing was stored).
	WriteJournals(ctx context.Context, writes []JournalWrite) (errs []error, err error)
	// DropJournals deletes several journals in one transaction.
	DropJournals(ctx context.Context, connIDs []string) error
	// DropJournal deletes connID's journal.
	DropJournal(ctx context.Context, connID string) error
	// PruneJournals deletes every journal last written before cutoff and
	// returns how many; it also erases the copies journals deleted so far
	// left behind (the SQLite store checkpoints and truncates its WAL).
	PruneJournals(ctx context.Context, cutoff time.Time) (int, error)
}

// JournalWrite is one journal's part of a WriteJournals.
type JournalWrite struct {
	ConnID string
	// Reset replaces the entries (as ResetJournal) instead of appending
	// to them (as AppendJournal); Count is as there.
	Reset   bool
	Count   int
	Entries [][]byte
}
