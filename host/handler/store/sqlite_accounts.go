package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

var _ Accounts = (*SQLite)(nil)

// MaxListed bounds one page of Accounts, LastCalls and Oneliners.
const MaxListed = 500

// accountColumns selects an Account from users u.
const accountColumns = `u.name, u.level, u.banned_at IS NOT NULL, u.created_at,
	coalesce((SELECT max(at) FROM calls WHERE user_id = u.id), 0),
	(SELECT count(*) FROM calls WHERE user_id = u.id),
	u.security, u.flags, u.waiting, u.encoding,
	coalesce((SELECT group_concat(name, ',') FROM user_groups WHERE user_id = u.id), '')`

// scanAccount reads the columns of accountColumns.
func scanAccount(row scanner) (Account, error) {
	var a Account
	var created, last int64
	var groups string
	if err := row.Scan(&a.Name, &a.Level, &a.Banned, &created, &last, &a.Calls,
		&a.Security, &a.Flags, &a.Waiting, &a.Encoding, &groups); err != nil {
		return Account{}, err
	}
	a.Groups = splitGroups(groups)
	a.Registered = fromMillis(created)
	if last > 0 {
		a.LastCall = fromMillis(last)
	}
	return a, nil
}

// Account implements Accounts.
func (s *SQLite) Account(ctx context.Context, name string) (Account, error) {
	canon, err := canonicalName(name)
	if err != nil {
		return Account{}, fmt.Errorf("%w: %q", ErrNoSuchUser, clip(name))
	}
	var a Account
	err = s.with(func(p *pools) error {
		a, err = scanAccount(p.r.QueryRowContext(ctx, "SELECT "+accountColumns+" FROM users u WHERE u.name = ?", canon))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: %q", ErrNoSuchUser, canon)
	}
	return a, wrap("account", err)
}

// Accounts implements Accounts. FTNAccount is not listed.
func (s *SQLite) Accounts(ctx context.Context, offset, limit int) ([]Account, error) {
	limit = min(max(limit, 0), MaxListed)
	out, err := readAll(ctx, s, scanAccount,
		"SELECT "+accountColumns+" FROM users u WHERE u.name <> '"+FTNAccount+"' ORDER BY u.name LIMIT ? OFFSET ?", limit, max(offset, 0))
	return out, wrap("accounts", err)
}

// updateUser runs one UPDATE on name's row, reporting ErrNoSuchUser if
// there is none.
func (s *SQLite) updateUser(ctx context.Context, op, name, set string, args ...any) error {
	return wrap(op, s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE users SET "+set+" WHERE id = ?", append(args, id)...)
		return err
	}))
}

// SetLevel implements Accounts.
func (s *SQLite) SetLevel(ctx context.Context, name, level string) error {
	if LevelRank(level) == 0 {
		return fmt.Errorf("%w: %q", ErrBadLevel, clip(level))
	}
	return s.updateUser(ctx, "set level", name, "level = ?", level)
}

// SetEncoding implements Accounts.
func (s *SQLite) SetEncoding(ctx context.Context, name, encoding string) error {
	switch encoding {
	case "", "utf-8", "cp437", "ascii":
	default:
		return fmt.Errorf("%w: %q", ErrBadEncoding, clip(encoding))
	}
	return s.updateUser(ctx, "set encoding", name, "encoding = ?", encoding)
}

// SetBanned implements Accounts.
func (s *SQLite) SetBanned(ctx context.Context, name string, banned bool) error {
	if banned {
		return s.updateUser(ctx, "ban", name, "banned_at = coalesce(banned_at, ?)", nowMillis())
	}
	return s.updateUser(ctx, "unban", name, "banned_at = NULL")
}

// RecordCall implements Accounts.
func (s *SQLite) RecordCall(ctx context.Context, name string) error {
	return wrap("record call", s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "caller", name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO calls (user_id, at) VALUES (?, ?)", id, nowMillis())
		return err
	}))
}

// LastCalls implements Accounts.
func (s *SQLite) LastCalls(ctx context.Context, n int) ([]Call, error) {
	out, err := readAll(ctx, s, scanCall, `SELECT u.name, c.at FROM calls c JOIN users u ON u.id = c.user_id
		ORDER BY c.id DESC LIMIT ?`, min(max(n, 0), MaxListed))
	return out, wrap("last calls", err)
}

// scanCall reads a call: the caller's name and the time.
func scanCall(row scanner) (Call, error) {
	var c Call
	var at int64
	err := row.Scan(&c.User, &at)
	c.At = fromMillis(at)
	return c, err
}

// AddOneliner implements Accounts.
func (s *SQLite) AddOneliner(ctx context.Context, user, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > MaxOnelinerBytes || strings.ContainsAny(text, "\r\n") {
		return fmt.Errorf("%w: a one-liner is one line of 1 to %d bytes", ErrTooLarge, MaxOnelinerBytes)
	}
	return wrap("add one-liner", s.inTx(ctx, func(tx txConn) error {
		id, _, err := lookupUser(ctx, tx, "author", user)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO oneliners (user_id, text, posted_at) VALUES (?, ?, ?)", id, text, nowMillis())
		return err
	}))
}

// Oneliners implements Accounts.
func (s *SQLite) Oneliners(ctx context.Context, n int) ([]Oneliner, error) {
	out, err := readAll(ctx, s, scanOneliner, `SELECT u.name, o.text, o.posted_at FROM oneliners o JOIN users u ON u.id = o.user_id
		ORDER BY o.id DESC LIMIT ?`, min(max(n, 0), MaxListed))
	return out, wrap("one-liners", err)
}

// scanOneliner reads a one-liner: the author's name, the text and the time.
func scanOneliner(row scanner) (Oneliner, error) {
	var o Oneliner
	var at int64
	err := row.Scan(&o.User, &o.Text, &at)
	o.Posted = fromMillis(at)
	return o, err
}
