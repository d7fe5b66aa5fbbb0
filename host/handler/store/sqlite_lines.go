package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var _ Lines = (*SQLite)(nil)

// checkBeat refuses a heartbeat that cannot be stored.
func checkBeat(b LineBeat) error {
	if b.Line < 1 || b.Instance == "" {
		return fmt.Errorf("store: line %d, instance %q: line must be 1 or more, instance non-empty", b.Line, b.Instance)
	}
	return nil
}

// ClaimLine implements Lines.
func (s *SQLite) ClaimLine(ctx context.Context, b LineBeat) ([]Presence, error) {
	if err := checkBeat(b); err != nil {
		return nil, err
	}
	var orphans []Presence
	err := s.inTx(ctx, func(tx txConn) error {
		var owner string
		err := tx.QueryRowContext(ctx, "SELECT instance FROM lines WHERE line = ?", b.Line).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case owner != b.Instance:
			if orphans, err = linePresence(ctx, tx, b.Line); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM line_callers WHERE line = ?", b.Line); err != nil {
				return err
			}
		}
		at := b.At.UnixMilli()
		_, err = tx.ExecContext(ctx,
			`INSERT INTO lines (line, route, online, capacity, instance, pid, hostname, started_at, heartbeat_at, down_handled)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
			 ON CONFLICT (line) DO UPDATE SET route = excluded.route, online = excluded.online,
			     capacity = excluded.capacity, instance = excluded.instance, pid = excluded.pid,
			     hostname = excluded.hostname, started_at = excluded.started_at,
			     heartbeat_at = excluded.heartbeat_at, down_handled = 0`,
			b.Line, b.Route, b.Online, b.Capacity, b.Instance, b.PID, b.Hostname, at, at)
		return err
	})
	if err != nil {
		return nil, wrap("claim line", err)
	}
	return orphans, nil
}

// BeatLine implements Lines.
func (s *SQLite) BeatLine(ctx context.Context, b LineBeat, set []Presence, gone []string) (bool, error) {
	if err := checkBeat(b); err != nil {
		return false, err
	}
	revived := false
	err := s.inTx(ctx, func(tx txConn) error {
		var (
			owner string
			down  bool
		)
		err := tx.QueryRowContext(ctx, "SELECT instance, down_handled FROM lines WHERE line = ?", b.Line).Scan(&owner, &down)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != b.Instance) {
			return fmt.Errorf("%w: line %d", ErrLineTaken, b.Line)
		}
		if err != nil {
			return err
		}
		revived = down
		if _, err := tx.ExecContext(ctx,
			`UPDATE lines SET route = ?, online = ?, capacity = ?, pid = ?, hostname = ?, heartbeat_at = ?, down_handled = 0
			 WHERE line = ?`,
			b.Route, b.Online, b.Capacity, b.PID, b.Hostname, b.At.UnixMilli(), b.Line); err != nil {
			return err
		}
		for _, id := range gone {
			if _, err := tx.ExecContext(ctx, "DELETE FROM line_callers WHERE line = ? AND conn_id = ?", b.Line, id); err != nil {
				return err
			}
		}
		for _, p := range set {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO line_callers (line, conn_id, "user", since, browser) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (line, conn_id) DO UPDATE SET "user" = excluded."user", browser = excluded.browser`,
				b.Line, p.ConnID, p.User, b.At.UnixMilli(), p.Browser); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, wrap("beat line", err)
	}
	return revived, nil
}

// LeaveLine implements Lines.
func (s *SQLite) LeaveLine(ctx context.Context, line int, instance string) error {
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, "UPDATE lines SET heartbeat_at = 0, online = 0 WHERE line = ? AND instance = ?", line, instance)
		return err
	})
	return wrap("leave line", err)
}

// LineList implements Lines.
func (s *SQLite) LineList(ctx context.Context) ([]LineInfo, error) {
	var out []LineInfo
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx,
			`SELECT line, route, online, capacity, instance, pid, hostname, started_at, heartbeat_at, down_handled
			 FROM lines ORDER BY line`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				l           LineInfo
				started, at int64
			)
			if err := rows.Scan(&l.Line, &l.Route, &l.Online, &l.Capacity, &l.Instance, &l.PID, &l.Hostname,
				&started, &at, &l.DownHandled); err != nil {
				return err
			}
			l.Started, l.At = fromMillis(started), fromMillis(at)
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("line list", err)
	}
	return out, nil
}

// LineCallers implements Lines.
func (s *SQLite) LineCallers(ctx context.Context) ([]Presence, error) {
	var out []Presence
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx,
			"SELECT line, conn_id, \"user\", browser FROM line_callers ORDER BY line, length(conn_id), conn_id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Presence
			if err := rows.Scan(&c.Line, &c.ConnID, &c.User, &c.Browser); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("line callers", err)
	}
	return out, nil
}

// ClaimDownLine implements Lines. The conditional UPDATE runs on the one
// writer inside an IMMEDIATE transaction, so of several hosts (or
// processes) only the first to commit sees a changed row.
func (s *SQLite) ClaimDownLine(ctx context.Context, line int, staleBefore time.Time) ([]Presence, bool, error) {
	var (
		callers []Presence
		won     bool
	)
	err := s.inTx(ctx, func(tx txConn) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE lines SET down_handled = 1, online = 0 WHERE line = ? AND down_handled = 0 AND heartbeat_at < ?",
			line, staleBefore.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		won = true
		if callers, err = linePresence(ctx, tx, line); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM line_callers WHERE line = ?", line)
		return err
	})
	if err != nil {
		return nil, false, wrap("claim down line", err)
	}
	return callers, won, nil
}

// linePresence reads the callers' rows of one line in tx.
func linePresence(ctx context.Context, tx txConn, line int) ([]Presence, error) {
	rows, err := tx.QueryContext(ctx,
		"SELECT conn_id, \"user\", browser FROM line_callers WHERE line = ? ORDER BY length(conn_id), conn_id", line)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Presence
	for rows.Next() {
		p := Presence{Line: line}
		if err := rows.Scan(&p.ConnID, &p.User, &p.Browser); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
