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

// Journal statements: each is one statement, atomic on its own.
const (
	appendJournalSQL = `UPDATE journals SET entries = entries || ?, count = count + ?, written = ?
	                    WHERE conn_id = ? AND count = ?`
	replaceJournalSQL = `UPDATE journals SET entries = ?, count = count + ?, written = ? WHERE conn_id = ? AND count = ?`
	resetJournalSQL   = `INSERT INTO journals (conn_id, entries, count, written) VALUES (?, ?, ?, ?)
	                   ON CONFLICT (conn_id) DO UPDATE SET entries = excluded.entries,
	                       count = excluded.count, written = excluded.written`
)

// AppendJournal implements Journals.
func (s *SQLite) AppendJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	blob, err := packJournal(connID, count, entries)
	if err != nil {
		return err
	}
	var n int64
	err = s.with(func(p *pools) error {
		st, err := p.writeStmt(ctx, appendJournalSQL)
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, blob, len(entries), nowMillis(), connID, count)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap("append journal", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: conn %s, appending at count %d", ErrJournalConflict, connID, count)
	}
	return nil
}

// ResetJournal implements Journals.
func (s *SQLite) ResetJournal(ctx context.Context, connID string, count int, entries [][]byte) error {
	blob, err := packJournal(connID, 0, entries)
	if err != nil {
		return err
	}
	var n int64
	err = s.with(func(p *pools) error {
		query, args := resetJournalSQL, []any{connID, blob, len(entries), nowMillis()}
		if count >= 0 {
			query, args = replaceJournalSQL, []any{blob, len(entries), nowMillis(), connID, count}
		}
		st, err := p.writeStmt(ctx, query)
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap("reset journal", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: conn %s, compacting at count %d", ErrJournalConflict, connID, count)
	}
	return nil
}

// LoadJournal implements Journals.
func (s *SQLite) LoadJournal(ctx context.Context, connID string) ([][]byte, int, error) {
	var (
		blob  []byte
		count int
	)
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT entries, count FROM journals WHERE conn_id = ?", connID).Scan(&blob, &count)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, wrap("load journal", err)
	}
	entries, err := unpackJournal(blob)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: journal of conn %s: %v", ErrDamaged, connID, err)
	}
	return entries, count, nil
}

// WriteJournals implements Journals.
func (s *SQLite) WriteJournals(ctx context.Context, writes []JournalWrite) ([]error, error) {
	type prepared struct {
		query string
		args  []any
	}
	stmts := make([]prepared, len(writes))
	now := nowMillis()
	for i, w := range writes {
		blob, err := packJournal(w.ConnID, max(w.Count, 0), w.Entries)
		if err != nil {
			return nil, err
		}
		switch {
		case !w.Reset:
			stmts[i] = prepared{appendJournalSQL, []any{blob, len(w.Entries), now, w.ConnID, w.Count}}
		case w.Count < 0:
			stmts[i] = prepared{resetJournalSQL, []any{w.ConnID, blob, len(w.Entries), now}}
		default:
			stmts[i] = prepared{replaceJournalSQL, []any{blob, len(w.Entries), now, w.ConnID, w.Count}}
		}
	}
	errs := make([]error, len(writes))
	err := s.with(func(p *pools) error {
		// Prepared before the transaction takes the writer's only
		// connection.
		preps := make([]*sql.Stmt, len(stmts))
		for i, st := range stmts {
			prep, err := p.writeStmt(ctx, st.query)
			if err != nil {
				return err
			}
			preps[i] = prep
		}
		tx, err := p.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, st := range stmts {
			res, err := tx.StmtContext(ctx, preps[i]).ExecContext(ctx, st.args...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				errs[i] = fmt.Errorf("%w: conn %s, count %d", ErrJournalConflict, writes[i].ConnID, writes[i].Count)
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, wrap("write journals", err)
	}
	return errs, nil
}

// DropJournals implements Journals.
func (s *SQLite) DropJournals(ctx context.Context, connIDs []string) error {
	if len(connIDs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
		res, err := p.w.ExecContext(ctx, "DELETE FROM journals WHERE written < ?", cutoff.UnixMilli())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return eraseWAL(ctx, p.w)
	})
	if err != nil {
		return 0, wrap("prune journals", err)
	}
	return int(n), nil
}

// packJournal checks entries and frames them for the entries column: each
// a uvarint length and its bytes.
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

// unpackJournal splits the entries column.
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
// "busy", not an error): the next prune finishes it.
func eraseWAL(ctx context.Context, w *sql.DB) error {
	var busy, frames, done int
	if err := w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
