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
	// AppendJournal stores entries as connID's entries first, first+1, …,
	// all or none, in one transaction. An entry number already taken fails
	// with ErrJournalConflict: another host wrote this journal meanwhile.
	AppendJournal(ctx context.Context, connID string, first int, entries [][]byte) error
	// LoadJournal returns connID's entries in order (none if it has no
	// journal).
	LoadJournal(ctx context.Context, connID string) ([][]byte, error)
	// ResetJournal replaces connID's journal with entries (numbered from
	// 0), in one transaction: how a session starts and is compacted.
	ResetJournal(ctx context.Context, connID string, entries [][]byte) error
	// DropJournal deletes connID's journal.
	DropJournal(ctx context.Context, connID string) error
	// PruneJournals deletes every journal last appended to before cutoff
	// and returns how many.
	PruneJournals(ctx context.Context, cutoff time.Time) (int, error)
}
