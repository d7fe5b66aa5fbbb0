package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/accessrule"
)

var _ Access = (*SQLite)(nil)

// splitGroups turns the stored group list (comma-separated) into a sorted
// slice, nil for none.
func splitGroups(list string) []string {
	if list == "" {
		return nil
	}
	groups := strings.Split(list, ",")
	slices.Sort(groups)
	return groups
}

// SetSecurity implements Access.
func (s *SQLite) SetSecurity(ctx context.Context, name string, level int) error {
	if level < 0 || level > MaxSecurity {
		return fmt.Errorf("%w: %d is not between 0 and %d", ErrBadLevel, level, MaxSecurity)
	}
	return s.updateUser(ctx, "set security", name, "security = ?, level = ?", level, LevelOf(level))
}

// SetGroup implements Access.
func (s *SQLite) SetGroup(ctx context.Context, name, group string, member bool) error {
	g, err := accessrule.GroupName(group)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadGroup, err)
	}
	return wrapAccess("set group", s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		if !member {
			_, err = tx.ExecContext(ctx, "DELETE FROM user_groups WHERE user_id = ? AND name = ?", id, g)
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM user_groups WHERE user_id = ? AND name <> ?", id, g).Scan(&n); err != nil {
			return err
		}
		if n >= MaxGroups {
			return fmt.Errorf("%w: at most %d groups a user", ErrBadGroup, MaxGroups)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO user_groups (user_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", id, g)
		return err
	}))
}

// SetFlags implements Access.
func (s *SQLite) SetFlags(ctx context.Context, name, flags string) error {
	var set [26]bool
	for _, c := range strings.ToUpper(flags) {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("%w: only the letters A to Z", ErrBadFlags)
		}
		set[c-'A'] = true
	}
	var b strings.Builder
	for i, on := range set {
		if on {
			b.WriteByte(byte('A' + i))
		}
	}
	return s.updateUser(ctx, "set flags", name, "flags = ?", b.String())
}

// Waiting implements Access.
func (s *SQLite) Waiting(ctx context.Context, limit int) ([]Account, error) {
	limit = min(max(limit, 0), MaxListed)
	out, err := readAll(ctx, s, scanAccount,
		"SELECT "+accountColumns+" FROM users u WHERE u.waiting = 1 ORDER BY u.created_at, u.id LIMIT ?", limit)
	return out, wrap("waiting", err)
}

// Approve implements Access.
func (s *SQLite) Approve(ctx context.Context, name string) error {
	return wrapAccess("approve", s.inTx(ctx, func(tx txConn) error {
		id, canon, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		var waiting bool
		var security int
		if err := tx.QueryRowContext(ctx, "SELECT waiting, security FROM users WHERE id = ?", id).Scan(&waiting, &security); err != nil {
			return err
		}
		if !waiting {
			return fmt.Errorf("%w: %q", ErrNotWaiting, canon)
		}
		security = max(security, SecurityUser)
		_, err = tx.ExecContext(ctx, "UPDATE users SET waiting = 0, security = ?, level = ? WHERE id = ?", security, LevelOf(security), id)
		return err
	}))
}

// checkDay returns an error wrapping ErrBadDay unless day is YYYY-MM-DD.
func checkDay(day string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("%w: %q is not a YYYY-MM-DD date", ErrBadDay, clip(day))
	}
	return nil
}

// AddTimeUsed implements Access.
func (s *SQLite) AddTimeUsed(ctx context.Context, name, day string, seconds int) (int, error) {
	if err := checkDay(day); err != nil {
		return 0, err
	}
	seconds = max(seconds, 0)
	var total int
	err := s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM time_used WHERE user_id = ? AND day <> ?", id, day); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO time_used (user_id, day, seconds) VALUES (?, ?, ?)
			ON CONFLICT (user_id, day) DO UPDATE SET seconds = time_used.seconds + excluded.seconds
			RETURNING seconds`, id, day, seconds).Scan(&total)
	})
	return total, wrapAccess("add time used", err)
}

// TimeUsed implements Access.
func (s *SQLite) TimeUsed(ctx context.Context, name, day string) (int, error) {
	if err := checkDay(day); err != nil {
		return 0, err
	}
	canon, err := canonicalName(name)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrNoSuchUser, clip(name))
	}
	var used int
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, `SELECT coalesce((SELECT t.seconds FROM time_used t WHERE t.user_id = u.id AND t.day = ?), 0)
			FROM users u WHERE u.name = ?`, day, canon).Scan(&used)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %q", ErrNoSuchUser, canon)
	}
	return used, wrap("time used", err)
}

// wrapAccess is wrap, keeping Access's own sentinels.
func wrapAccess(op string, err error) error {
	for _, sentinel := range []error{ErrBadGroup, ErrBadFlags, ErrNotWaiting, ErrBadDay} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}

// CallStarted implements Access.
func (s *SQLite) CallStarted(ctx context.Context, connID, name string, at time.Time, fresh bool) (time.Time, error) {
	started := at.UnixMilli()
	err := s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM call_clocks WHERE started < ?", at.Add(-MaxCallAge).UnixMilli()); err != nil {
			return err
		}
		if !fresh {
			err := tx.QueryRowContext(ctx, "SELECT started FROM call_clocks WHERE conn_id = ? AND user_id = ?", connID, id).Scan(&started)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO call_clocks (conn_id, user_id, started) VALUES (?, ?, ?)
			ON CONFLICT (conn_id) DO UPDATE SET user_id = excluded.user_id, started = excluded.started`, connID, id, started)
		return err
	})
	if err != nil {
		return time.Time{}, wrapAccess("call started", err)
	}
	return time.UnixMilli(started).In(at.Location()), nil
}

// CallEnded implements Access.
func (s *SQLite) CallEnded(ctx context.Context, connID string) error {
	return wrap("call ended", s.inTx(ctx, func(tx txConn) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM call_clocks WHERE conn_id = ?", connID)
		return err
	}))
}
