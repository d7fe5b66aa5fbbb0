package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

var _ Journals = (*SQLite)(nil)

// ErrJournalConflict is returned by AppendJournal when the journal does
// not hold the number of entries the append follows: another host wrote
// or dropped it meanwhile.
var ErrJournalConflict = errors.New("store: journal written by another host")

// ErrDamaged is returned by LoadJournal for a journal whose stored form
// cannot be read.
var ErrDamaged = errors.New("store: journal damaged")

// MaxJournalEntryBytes bounds one journal entry.
const MaxJournalEntryBytes = 1 << 20

// Journal statements. A journal is a row in journals, with the entries it
// was started or last compacted with, and one row in journal_entries per
// batch appended since (see migration 010): an append is one INSERT of the
// bytes it adds, whatever the journal's length, and checks the journal's
// count in the same statement; a new head (start, compaction) deletes the
// batches (trigger journal_compacted). Each write runs in one transaction.
const (
	// journalCountSQL is the count of journal ?5 (see migration 010).
	journalCountSQL = `max(j.count, coalesce((SELECT next FROM journal_entries
	                   WHERE conn_id = ?5 ORDER BY first DESC LIMIT 1), 0))`
	// appendJournalSQL appends batch ?4 of ?2 entries, written at ?3, to
	// journal ?5 if its count is exactly ?1.
	appendJournalSQL = `INSERT INTO journal_entries (conn_id, first, next, written, entries)
	                    SELECT j.conn_id, CAST(?1 AS BIGINT), CAST(?1 AS BIGINT) + CAST(?2 AS BIGINT), ?3, ?4 FROM journals j
	                    WHERE j.conn_id = ?5 AND ` + journalCountSQL + ` = ?1`
	// appendJournalRowSQL is appendJournalSQL on SQLite, where trigger
	// journal_append_follows (migration 021) makes the same check: a
	// batch that does not follow the journal's count is skipped.
	appendJournalRowSQL = `INSERT INTO journal_entries (conn_id, first, next, written, entries)
	                       VALUES (?5, ?1, ?1 + ?2, ?3, ?4)`
	// touchJournalSQL notes that journal ?5 was written at ?3 if its
	// count is exactly ?1 (?2 is 0 and ?4 NULL: named only so that
	// PostgreSQL knows every parameter's type).
	touchJournalSQL = `UPDATE journals AS j SET written = ?3
	                   WHERE j.conn_id = ?5 AND ` + journalCountSQL + ` = ?1
	                   AND CAST(?2 AS BIGINT) = 0 AND CAST(?4 AS BYTEA) IS NULL`
	// compactJournalSQL replaces the head of journal ?5 with ?4 (?2
	// entries) at ?3, if its count is exactly ?1.
	compactJournalSQL = `UPDATE journals AS j SET entries = ?4, count = CAST(?1 AS BIGINT) + CAST(?2 AS BIGINT), written = ?3
	                     WHERE j.conn_id = ?5 AND ` + journalCountSQL + ` = ?1`
	// startJournalSQL starts a journal over, whatever was there.
	startJournalSQL = `INSERT INTO journals (conn_id, entries, count, written) VALUES (?, ?, ?, ?)
	                   ON CONFLICT (conn_id) DO UPDATE SET entries = excluded.entries,
	                       count = excluded.count, written = excluded.written`
	// loadJournalSQL reads a journal's head, then its batches in order.
	loadJournalSQL = `SELECT -1, count, entries FROM journals WHERE conn_id = ?1
	                  UNION ALL SELECT first, next, entries FROM journal_entries WHERE conn_id = ?1
	                  ORDER BY 1`
	// pruneJournalsSQL deletes the journals last written before ?1.
	pruneJournalsSQL = `DELETE FROM journals WHERE written < ?1 AND coalesce((SELECT written FROM journal_entries e
	                    WHERE e.conn_id = journals.conn_id ORDER BY first DESC LIMIT 1), 0) < ?1`
)

// AppendJournal implements Journals.
func (s *SQLite) AppendJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	errs, err := s.writeJournals(ctx, "append journal", []JournalWrite{{ConnID: connID, Count: count, Entries: entries}})
	if err != nil {
		return err
	}
	return errs[0]
}

// ResetJournal implements Journals.
func (s *SQLite) ResetJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	errs, err := s.writeJournals(ctx, "reset journal", []JournalWrite{{ConnID: connID, Reset: true, Count: count, Entries: entries}})
	if err != nil {
		return err
	}
	return errs[0]
}

// LoadJournal implements Journals.
func (s *SQLite) LoadJournal(ctx context.Context, connID string) ([][]byte, int, error) {
	var (
		entries [][]byte
		count   int
		damaged error
	)
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx, loadJournalSQL, connID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				first int
				blob  []byte
			)
			if err := rows.Scan(&first, &count, &blob); err != nil {
				return err
			}
			batch, err := unpackJournal(blob)
			if err != nil && damaged == nil {
				damaged = err
			}
			entries = append(entries, batch...)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, wrap("load journal", err)
	}
	if damaged != nil {
		return nil, 0, fmt.Errorf("%w: journal of conn %s: %v", ErrDamaged, connID, damaged)
	}
	return entries, count, nil
}

// WriteJournals implements Journals.
func (s *SQLite) WriteJournals(ctx context.Context, writes []JournalWrite) ([]error, error) {
	return s.writeJournals(ctx, "write journals", writes)
}

// writeJournals is WriteJournals, op naming it in errors.
//
// On SQLite a batch of one (the worker kept up) is one statement, which
// SQLite runs as a transaction of its own, taking the write lock before it
// reads; anything else is one write transaction (writeTx).
func (s *SQLite) writeJournals(ctx context.Context, op string, writes []JournalWrite) ([]error, error) {
	batches := make([][]byte, len(writes))
	for i, w := range writes {
		blob, err := packJournal(w.ConnID, max(w.Count, 0), w.Entries)
		if err != nil {
			return nil, err
		}
		batches[i] = blob
	}
	errs := make([]error, len(writes))
	now := nowMillis()
	err := s.with(func(p *pools) error {
		if len(writes) == 1 && s.pg == nil {
			return writeJournalsIn(ctx, p.w, s.appendSQL(), writes, batches, now, errs)
		}
		return s.plainWriteTx(ctx, p, func(tx txConn) error {
			clear(errs) // PostgreSQL may run the transaction again
			return writeJournalsIn(ctx, tx, s.appendSQL(), writes, batches, now, errs)
		})
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return errs, nil
}

// writeJournalsIn stores each of writes on tx, batches being their
// entries packed (appends with appendSQL), and sets errs[i] for a journal whose count is not the
// one its write follows.
func writeJournalsIn(ctx context.Context, tx txConn, appendSQL string, writes []JournalWrite, batches [][]byte, now int64, errs []error) error {
	for i, w := range writes {
		ok, err := writeJournal(ctx, tx, appendSQL, w, batches[i], now)
		if err != nil {
			return err
		}
		if !ok {
			errs[i] = fmt.Errorf("%w: conn %s, count %d", ErrJournalConflict, w.ConnID, w.Count)
		}
	}
	return nil
}

// writeJournal stores one journal's part of a WriteJournals on tx, batch
// being its entries packed, an append with appendSQL (s.appendSQL); it reports false when the journal's count is
// not the one the write follows (nothing is written then).
func writeJournal(ctx context.Context, tx txConn, appendSQL string, w JournalWrite, batch []byte, now int64) (bool, error) {
	var (
		res sql.Result
		err error
	)
	switch {
	case !w.Reset && len(w.Entries) == 0:
		// Nothing to add: the count is checked, the time noted.
		res, err = tx.ExecContext(ctx, touchJournalSQL, w.Count, 0, now, nil, w.ConnID)
	case !w.Reset:
		res, err = tx.ExecContext(ctx, appendSQL, w.Count, len(w.Entries), now, batch, w.ConnID)
	case w.Count < 0:
		res, err = tx.ExecContext(ctx, startJournalSQL, w.ConnID, batch, len(w.Entries), now)
	default:
		res, err = tx.ExecContext(ctx, compactJournalSQL, w.Count, len(w.Entries), now, batch, w.ConnID)
	}
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, nil
}

// appendSQL is the statement that appends a batch to a journal: on SQLite
// a plain INSERT checked by a trigger (migration 021), on PostgreSQL an
// INSERT ... SELECT that checks the count itself.
func (s *SQLite) appendSQL() string {
	if s.pg != nil {
		return appendJournalSQL
	}
	return appendJournalRowSQL
}

// DropJournals implements Journals.
func (s *SQLite) DropJournals(ctx context.Context, connIDs []string) error {
	if len(connIDs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx txConn) error {
		for _, id := range connIDs {
			if _, err := tx.ExecContext(ctx, "DELETE FROM journals WHERE conn_id = ?", id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("drop journals", err)
}

// DropJournal implements Journals.
func (s *SQLite) DropJournal(ctx context.Context, connID string) error {
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, "DELETE FROM journals WHERE conn_id = ?", connID)
		return err
	})
	return wrap("drop journal", err)
}

// PruneJournals implements Journals.
func (s *SQLite) PruneJournals(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.with(func(p *pools) error {
		res, err := p.w.ExecContext(ctx, pruneJournalsSQL, cutoff.UnixMilli())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if s.pg != nil {
			return nil // no WAL file of ours: PostgreSQL's is the server's
		}
		return eraseWAL(ctx, p.w, s.busy)
	})
	if err != nil {
		return 0, wrap("prune journals", err)
	}
	return int(n), nil
}

// packJournal checks entries and frames them as one batch of
// journal_entries: each a uvarint length and its bytes.
func packJournal(connID string, first int, entries [][]byte) ([]byte, error) {
	if connID == "" || strings.ContainsRune(connID, 0) || first < 0 {
		return nil, fmt.Errorf("store: journal of conn %q from entry %d: bad address", connID, first)
	}
	size := 0
	for i, e := range entries {
		if len(e) > MaxJournalEntryBytes {
			return nil, fmt.Errorf("%w: journal entry %d is %d bytes (at most %d)", ErrTooLarge, first+i, len(e), MaxJournalEntryBytes)
		}
		size += binary.MaxVarintLen32 + len(e)
	}
	blob := make([]byte, 0, size)
	for _, e := range entries {
		blob = binary.AppendUvarint(blob, uint64(len(e)))
		blob = append(blob, e...)
	}
	return blob, nil
}

// unpackJournal splits a batch of journal_entries.
func unpackJournal(blob []byte) ([][]byte, error) {
	var out [][]byte
	for len(blob) > 0 {
		n, k := binary.Uvarint(blob)
		if k <= 0 || n > uint64(len(blob)-k) {
			return out, errors.New("bad entry length")
		}
		out = append(out, blob[k:k+int(n):k+int(n)])
		blob = blob[k+int(n):]
	}
	return out, nil
}

// eraseWAL copies the write-ahead log into the database file and empties
// it, so that the journals deleted since (their zeroed pages are in the
// file: secure_delete) leave no older copy in the WAL. A reader still on
// an older snapshot makes the checkpoint stop short (SQLite reports
// "busy", not an error): the next prune finishes it. A checkpoint running
// on another connection (this host's checkpointer, or another host's on
// the same file) makes SQLite give up at once, without waiting out the
// busy timeout and without an error: the checkpoint did not run at all.
// eraseWAL then tries again every millisecond, for at most busy, and
// fails if it never ran.
func eraseWAL(ctx context.Context, w *sql.DB, busy time.Duration) error {
	deadline := time.Now().Add(busy)
	for {
		var blocked, frames, done int
		if err := w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&blocked, &frames, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if blocked == 0 || frames >= 0 {
			return nil // done, or stopped short by a reader
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("checkpoint: another checkpoint held the log for %v: the deleted journals' copies stay in it until the next prune", busy)
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("checkpoint: %w", ctx.Err())
		case <-t.C:
		}
	}
}
