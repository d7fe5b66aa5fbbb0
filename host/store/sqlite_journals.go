package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

var _ Journals = (*SQLite)(nil)

// ErrJournalConflict is returned by AppendJournal when an entry number is
// already taken.
var ErrJournalConflict = errors.New("store: journal entry already written")

// MaxJournalEntryBytes bounds one journal entry.
const MaxJournalEntryBytes = 1 << 20

// AppendJournal implements Journals.
func (s *SQLite) AppendJournal(ctx context.Context, connID string, first int, entries [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	if err := checkJournal(connID, first, entries); err != nil {
		return err
	}
	now := nowMillis()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO journal_entries (conn_id, seq, entry, written) VALUES (?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, e := range entries {
			if _, err := stmt.ExecContext(ctx, connID, first+i, e, now); err != nil {
				var se sqlite3.Error
				if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
					return fmt.Errorf("%w: conn %s entry %d", ErrJournalConflict, connID, first+i)
				}
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrJournalConflict) {
		return err
	}
	return wrap("append journal", err)
}

// LoadJournal implements Journals.
func (s *SQLite) LoadJournal(ctx context.Context, connID string) ([][]byte, error) {
	var out [][]byte
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx, "SELECT entry FROM journal_entries WHERE conn_id = ? ORDER BY seq", connID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e []byte
			if err := rows.Scan(&e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("load journal", err)
	}
	return out, nil
}

// ResetJournal implements Journals.
func (s *SQLite) ResetJournal(ctx context.Context, connID string, entries [][]byte) error {
	if err := checkJournal(connID, 0, entries); err != nil {
		return err
	}
	now := nowMillis()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM journal_entries WHERE conn_id = ?", connID); err != nil {
			return err
		}
		for i, e := range entries {
			if _, err := tx.ExecContext(ctx, "INSERT INTO journal_entries (conn_id, seq, entry, written) VALUES (?, ?, ?, ?)", connID, i, e, now); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("reset journal", err)
}

// DropJournal implements Journals.
func (s *SQLite) DropJournal(ctx context.Context, connID string) error {
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, "DELETE FROM journal_entries WHERE conn_id = ?", connID)
		return err
	})
	return wrap("drop journal", err)
}

// PruneJournals implements Journals.
func (s *SQLite) PruneJournals(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.with(func(p *pools) error {
		res, err := p.w.ExecContext(ctx,
			`DELETE FROM journal_entries WHERE conn_id IN (
			     SELECT conn_id FROM journal_entries GROUP BY conn_id HAVING max(written) < ?)`,
			cutoff.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("prune journals", err)
	}
	return int(n), nil
}

// checkJournal refuses entries that cannot be stored.
func checkJournal(connID string, first int, entries [][]byte) error {
	if connID == "" || strings.ContainsRune(connID, 0) || first < 0 {
		return fmt.Errorf("store: journal of conn %q from entry %d: bad address", connID, first)
	}
	for i, e := range entries {
		if len(e) > MaxJournalEntryBytes {
			return fmt.Errorf("%w: journal entry %d is %d bytes (at most %d)", ErrTooLarge, first+i, len(e), MaxJournalEntryBytes)
		}
	}
	return nil
}
