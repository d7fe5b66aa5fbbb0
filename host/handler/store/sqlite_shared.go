package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var _ SharedState = (*SQLite)(nil)

// SharedGet implements SharedState.
func (s *SQLite) SharedGet(ctx context.Context, table, key string) (SharedValue, bool, error) {
	if err := checkSharedAddress(table, key); err != nil {
		return SharedValue{}, false, err
	}
	var (
		v  SharedValue
		ok bool
	)
	err := s.with(func(p *pools) (err error) {
		v, ok, err = readShared(ctx, p.r.QueryRowContext(ctx,
			"SELECT kind, s, n FROM shared_values WHERE tbl = ? AND key = ?", table, key))
		return err
	})
	if err != nil {
		return SharedValue{}, false, wrapShared("shared get", err)
	}
	return v, ok, nil
}

// readShared scans one shared value, if the row exists.
func readShared(_ context.Context, row scanner) (SharedValue, bool, error) {
	var (
		kind string
		v    SharedValue
	)
	err := row.Scan(&kind, &v.Str, &v.Num)
	if errors.Is(err, sql.ErrNoRows) {
		return SharedValue{}, false, nil
	}
	if err != nil {
		return SharedValue{}, false, err
	}
	v, err = sharedOf(kind, v)
	return v, err == nil, err
}

// sharedOf returns v, its columns s and n as read, as a value of kind.
func sharedOf(kind string, v SharedValue) (SharedValue, error) {
	if len(kind) != 1 {
		return SharedValue{}, fmt.Errorf("shared value of unknown kind %q", kind)
	}
	v.Kind = SharedKind(kind[0])
	switch v.Kind {
	case SharedBool:
		v.Bool, v.Num = v.Num != 0, 0
		v.Str = ""
	case SharedNumber:
		v.Str = ""
	case SharedString:
		v.Num = 0
	}
	return v, nil
}

// SharedUpdate implements SharedState.
func (s *SQLite) SharedUpdate(ctx context.Context, table, key string, fn SharedUpdateFunc) (SharedValue, bool, error) {
	if err := checkSharedAddress(table, key); err != nil {
		return SharedValue{}, false, err
	}
	var (
		after   SharedValue
		present bool
		fnErr   error
	)
	err := s.inTx(ctx, func(tx txConn) error {
		cur, ok, err := readShared(ctx, tx.QueryRowContext(ctx,
			"SELECT kind, s, n FROM shared_values WHERE tbl = ? AND key = ?", table, key))
		if err != nil {
			return err
		}
		next, write, err := fn(cur, ok)
		if err != nil {
			fnErr = err
			return err
		}
		after, present = cur, ok
		if !write {
			return nil
		}
		if next == nil {
			after, present = SharedValue{}, false
			_, err := tx.ExecContext(ctx, "DELETE FROM shared_values WHERE tbl = ? AND key = ?", table, key)
			return err
		}
		if err := CheckSharedValue(*next); err != nil {
			return err
		}
		if !ok {
			if err := checkSharedRoom(ctx, tx, table); err != nil {
				return err
			}
		}
		after, present = *next, true
		return putShared(ctx, tx, table, key, *next)
	})
	if fnErr != nil {
		return SharedValue{}, false, fnErr
	}
	if err != nil {
		return SharedValue{}, false, wrapShared("shared update", err)
	}
	return after, present, nil
}

// checkSharedRoom refuses a new key of table past the limits.
func checkSharedRoom(ctx context.Context, tx txConn, table string) error {
	var inTable, total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM shared_values WHERE tbl = ?", table).Scan(&inTable); err != nil {
		return err
	}
	if inTable >= MaxSharedKeysPerTable {
		return fmt.Errorf("%w: table %q has %d keys", ErrSharedFull, table, inTable)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM shared_values").Scan(&total); err != nil {
		return err
	}
	if total >= MaxSharedKeys {
		return fmt.Errorf("%w: the board's shared tables hold %d keys", ErrSharedFull, total)
	}
	return nil
}

// putShared writes table[key] = v in tx.
func putShared(ctx context.Context, tx txConn, table, key string, v SharedValue) error {
	str, num := v.Str, v.Num
	switch v.Kind {
	case SharedBool:
		str, num = "", 0
		if v.Bool {
			num = 1
		}
	case SharedNumber:
		str = ""
	case SharedString:
		num = 0
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO shared_values (tbl, key, kind, s, n, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (tbl, key) DO UPDATE SET kind = excluded.kind, s = excluded.s, n = excluded.n,
		 updated_at = excluded.updated_at`,
		table, key, string(rune(v.Kind)), str, num, nowMillis())
	return err
}

// SharedKeys implements SharedState.
func (s *SQLite) SharedKeys(ctx context.Context, table string) ([]string, error) {
	if err := CheckSharedName("table", table); err != nil {
		return nil, err
	}
	keys, err := readAll(ctx, s, func(r scanner) (k string, err error) {
		err = r.Scan(&k)
		return k, err
	}, "SELECT key FROM shared_values WHERE tbl = ? ORDER BY key LIMIT ?", table, MaxSharedKeysPerTable)
	return keys, wrapShared("shared keys", err)
}

// SharedAll implements SharedState.
func (s *SQLite) SharedAll(ctx context.Context, table string) ([]SharedEntry, error) {
	if err := CheckSharedName("table", table); err != nil {
		return nil, err
	}
	all, err := readAll(ctx, s, func(r scanner) (e SharedEntry, err error) {
		var kind string
		if err = r.Scan(&e.Key, &kind, &e.Value.Str, &e.Value.Num); err != nil {
			return e, err
		}
		e.Value, err = sharedOf(kind, e.Value)
		return e, err
	}, "SELECT key, kind, s, n FROM shared_values WHERE tbl = ? ORDER BY key LIMIT ?", table, MaxSharedKeysPerTable)
	return all, wrapShared("shared all", err)
}

// AppendSharedEvent implements SharedState.
func (s *SQLite) AppendSharedEvent(ctx context.Context, e SharedEvent) (int64, error) {
	if err := CheckSharedName("channel", e.Channel); err != nil {
		return 0, err
	}
	if len(e.Text) > MaxSharedValueBytes {
		return 0, fmt.Errorf("%w: event longer than %d bytes", ErrSharedValue, MaxSharedValueBytes)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	var id int64
	err := s.inTx(ctx, func(tx txConn) error {
		return tx.QueryRowContext(ctx,
			"INSERT INTO shared_events (origin, channel, sender, text, at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			e.Origin, e.Channel, e.From, e.Text, at.UnixMilli()).Scan(&id)
	})
	return id, wrapShared("shared event", err)
}

// SharedEventsAfter implements SharedState.
func (s *SQLite) SharedEventsAfter(ctx context.Context, after int64, limit int) ([]SharedEvent, error) {
	list, err := readAll(ctx, s, func(r scanner) (e SharedEvent, err error) {
		var at int64
		err = r.Scan(&e.ID, &e.Origin, &e.Channel, &e.From, &e.Text, &at)
		e.At = fromMillis(at)
		return e, err
	}, "SELECT id, origin, channel, sender, text, at FROM shared_events WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	return list, wrapShared("shared events", err)
}

// LastSharedEvent implements SharedState.
func (s *SQLite) LastSharedEvent(ctx context.Context) (int64, error) {
	var id int64
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM shared_events").Scan(&id)
	})
	return id, wrapShared("shared events", err)
}

// PruneSharedEvents implements SharedState.
func (s *SQLite) PruneSharedEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx txConn) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM shared_events WHERE at < ?", before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrapShared("prune shared events", err)
}

// checkSharedAddress checks a table's name and a key.
func checkSharedAddress(table, key string) error {
	if err := CheckSharedName("table", table); err != nil {
		return err
	}
	return CheckSharedName("key", key)
}
