package store

import (
	"context"
	"time"
)

// JournalInfo describes one stored session journal, for the sysop's tools.
type JournalInfo struct {
	// ConnID is the caller's conn id.
	ConnID string
	// Bytes is the size of its stored entries.
	Bytes int64
	// Written is when it was last written.
	Written time.Time
}

// listJournalsSQL lists every journal with its size and its last write,
// in the order of their conn ids as numbers.
const listJournalsSQL = `SELECT j.conn_id,
	length(j.entries) + coalesce((SELECT sum(length(e.entries)) FROM journal_entries e WHERE e.conn_id = j.conn_id), 0),
	max(j.written, coalesce((SELECT max(e.written) FROM journal_entries e WHERE e.conn_id = j.conn_id), 0))
	FROM journals j ORDER BY length(j.conn_id), j.conn_id`

// ListJournals returns every session journal the store holds: those of the
// callers online, and of calls that ended while no host ran and were not
// pruned yet. It reads only, and loads no entries.
func (s *SQLite) ListJournals(ctx context.Context) ([]JournalInfo, error) {
	list, err := readAll(ctx, s, func(sc scanner) (JournalInfo, error) {
		var (
			info    JournalInfo
			written int64
		)
		err := sc.Scan(&info.ConnID, &info.Bytes, &written)
		info.Written = fromMillis(written)
		return info, err
	}, listJournalsSQL)
	if err != nil {
		return nil, wrap("list journals", err)
	}
	return list, nil
}
