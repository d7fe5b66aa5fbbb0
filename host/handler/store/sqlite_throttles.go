package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

var _ Throttles = (*SQLite)(nil)

// BeginLogin implements Throttles.
func (s *SQLite) BeginLogin(ctx context.Context, name, addr string, now time.Time, limits LoginLimits) error {
	name, addr = throttleKey(name), throttleKey(addr)
	at := now.UnixMilli()
	err := s.inTx(ctx, func(tx txConn) error {
		if limits.Forget > 0 {
			cutoff := now.Add(-limits.Forget).UnixMilli()
			for _, q := range []string{"DELETE FROM login_attempts WHERE last_at < ?", "DELETE FROM login_addrs WHERE last_at < ?"} {
				if _, err := tx.ExecContext(ctx, q, cutoff); err != nil {
					return err
				}
			}
		}
		perName, nameNext, err := attemptRow(ctx, tx, "SELECT attempts, not_before FROM login_attempts WHERE name_key = ? AND addr = ?", name, addr)
		if err != nil {
			return err
		}
		perAddr, addrNext, err := attemptRow(ctx, tx, "SELECT attempts, not_before FROM login_addrs WHERE addr = ?", addr)
		if err != nil {
			return err
		}
		if next := max(nameNext, addrNext); next > at {
			return &ThrottledError{Wait: time.Duration(next-at) * time.Millisecond}
		}
		// not_before is 0 for an attempt that sets no pause: a time there
		// would hold up a concurrent attempt whose clock was read a
		// moment earlier, outside this transaction (two callers' logins
		// at once, each free, refused one of them for a millisecond).
		pause := func(n int, perName bool) int64 {
			if limits.Pause == nil {
				return 0
			}
			d := limits.Pause(n, perName)
			if d <= 0 {
				return 0
			}
			return at + d.Milliseconds()
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO login_attempts (name_key, addr, attempts, last_at, not_before) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (name_key, addr) DO UPDATE SET attempts = excluded.attempts, last_at = excluded.last_at, not_before = excluded.not_before`,
			name, addr, perName+1, at, pause(perName+1, true)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO login_addrs (addr, attempts, last_at, not_before) VALUES (?, ?, ?, ?)
			 ON CONFLICT (addr) DO UPDATE SET attempts = excluded.attempts, last_at = excluded.last_at, not_before = excluded.not_before`,
			addr, perAddr+1, at, pause(perAddr+1, false))
		return err
	})
	if errors.Is(err, ErrThrottled) {
		return err
	}
	return wrap("begin login", err)
}

// attemptRow reads attempts and not_before of one throttle row (zeros when
// there is none).
func attemptRow(ctx context.Context, tx txConn, query string, args ...any) (attempts int, notBefore int64, err error) {
	err = tx.QueryRowContext(ctx, query, args...).Scan(&attempts, &notBefore)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return attempts, notBefore, err
}

// LoginSucceeded implements Throttles.
func (s *SQLite) LoginSucceeded(ctx context.Context, name, addr string) error {
	name, addr = throttleKey(name), throttleKey(addr)
	return wrap("login succeeded", s.inTx(ctx, func(tx txConn) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM login_attempts WHERE name_key = ? AND addr = ?", name, addr); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE login_addrs SET attempts = max(attempts - 1, 0) WHERE addr = ?", addr)
		return err
	}))
}

// BeginRegistration implements Throttles.
func (s *SQLite) BeginRegistration(ctx context.Context, addr string, now time.Time, limit int, window time.Duration) (int64, error) {
	addr = throttleKey(addr)
	at, since := now.UnixMilli(), now.Add(-window).UnixMilli()
	var id int64
	err := s.inTx(ctx, func(tx txConn) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM registrations WHERE at < ?", since); err != nil {
			return err
		}
		var n int
		var oldest sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT count(*), min(at) FROM registrations WHERE addr = ? AND at >= ?", addr, since).Scan(&n, &oldest); err != nil {
			return err
		}
		if n >= limit {
			return &ThrottledError{Wait: time.Duration(oldest.Int64-since) * time.Millisecond}
		}
		return tx.QueryRowContext(ctx, "INSERT INTO registrations (addr, at) VALUES (?, ?) RETURNING id", addr, at).Scan(&id)
	})
	if errors.Is(err, ErrThrottled) {
		return 0, err
	}
	return id, wrap("begin registration", err)
}

// CancelRegistration implements Throttles.
func (s *SQLite) CancelRegistration(ctx context.Context, id int64) error {
	return wrap("cancel registration", s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, "DELETE FROM registrations WHERE id = ?", id)
		return err
	}))
}
