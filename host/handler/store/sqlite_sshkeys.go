package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var _ SSHKeys = (*SQLite)(nil)

// sshKeyColumns are the columns scanSSHKey reads.
const sshKeyColumns = "k.key_type, k.fingerprint, k.line, k.added_at"

// scanSSHKey reads one row of sshKeyColumns.
func scanSSHKey(row scanner) (SSHKey, error) {
	var k SSHKey
	var added int64
	err := row.Scan(&k.Type, &k.Fingerprint, &k.Line, &added)
	k.AddedAt = time.UnixMilli(added)
	return k, err
}

// AddSSHKey implements SSHKeys.
func (s *SQLite) AddSSHKey(ctx context.Context, name string, key SSHKey) error {
	switch {
	case key.Type == "" || key.Fingerprint == "" || key.Line == "":
		return fmt.Errorf("%w: empty field", ErrBadSSHKey)
	case len(key.Line) > MaxSSHKeyLine:
		return fmt.Errorf("%w: line of %d bytes, at most %d", ErrBadSSHKey, len(key.Line), MaxSSHKeyLine)
	case len(key.Fingerprint) > 100 || len(key.Type) > 40:
		return fmt.Errorf("%w: type or fingerprint too long", ErrBadSSHKey)
	}
	if key.AddedAt.IsZero() {
		key.AddedAt = time.Now()
	}
	return wrapSSHKeys("add ssh key", s.inTx(ctx, func(tx txConn) error {
		id, canon, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		var n int
		var dup bool
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(max(CASE WHEN fingerprint = ? THEN 1 ELSE 0 END), 0) FROM ssh_keys WHERE user_id = ?",
			key.Fingerprint, id).Scan(&n, &dup); err != nil {
			return err
		}
		if dup {
			return fmt.Errorf("%w: %q has %s", ErrSSHKeyExists, canon, key.Fingerprint)
		}
		if n >= MaxSSHKeys {
			return fmt.Errorf("%w: at most %d a user", ErrTooManySSHKeys, MaxSSHKeys)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO ssh_keys (user_id, fingerprint, key_type, line, added_at) VALUES (?, ?, ?, ?, ?)",
			id, key.Fingerprint, key.Type, key.Line, key.AddedAt.UnixMilli())
		return err
	}))
}

// ListSSHKeys implements SSHKeys.
func (s *SQLite) ListSSHKeys(ctx context.Context, name string) ([]SSHKey, error) {
	canon, err := canonicalName(name)
	if err != nil {
		return nil, nil
	}
	keys, err := readAll(ctx, s, scanSSHKey, "SELECT "+sshKeyColumns+
		" FROM ssh_keys k JOIN users u ON u.id = k.user_id WHERE u.name = ? ORDER BY k.added_at, k.fingerprint LIMIT ?",
		canon, MaxSSHKeys)
	return keys, wrap("list ssh keys", err)
}

// FindSSHKey implements SSHKeys.
func (s *SQLite) FindSSHKey(ctx context.Context, name, fingerprint string) (string, SSHKey, error) {
	canon, err := canonicalName(name)
	if err != nil {
		return "", SSHKey{}, fmt.Errorf("%w: no key", ErrNotFound)
	}
	var key SSHKey
	var registered string
	err = s.with(func(p *pools) error {
		row := p.r.QueryRowContext(ctx, "SELECT u.name, "+sshKeyColumns+
			" FROM ssh_keys k JOIN users u ON u.id = k.user_id WHERE u.name = ? AND k.fingerprint = ?", canon, fingerprint)
		var added int64
		err := row.Scan(&registered, &key.Type, &key.Fingerprint, &key.Line, &added)
		key.AddedAt = time.UnixMilli(added)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", SSHKey{}, fmt.Errorf("%w: no such key of %q", ErrNotFound, canon)
	}
	return registered, key, wrap("find ssh key", err)
}

// RemoveSSHKey implements SSHKeys.
func (s *SQLite) RemoveSSHKey(ctx context.Context, name, fingerprint string) error {
	return wrapSSHKeys("remove ssh key", s.inTx(ctx, func(tx txConn) error {
		id, canon, err := lookupUser(ctx, tx, "user", name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM ssh_keys WHERE user_id = ? AND fingerprint = ?", id, fingerprint)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("%w: no such key of %q", ErrNotFound, canon)
		}
		return nil
	}))
}

// wrapSSHKeys is wrap, keeping SSHKeys's own sentinels.
func wrapSSHKeys(op string, err error) error {
	for _, sentinel := range []error{ErrSSHKeyExists, ErrTooManySSHKeys, ErrBadSSHKey} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}
