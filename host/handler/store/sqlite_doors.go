package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

var _ DoorStore = (*SQLite)(nil)

// DoorGet implements DoorStore.
func (s *SQLite) DoorGet(ctx context.Context, door, user, key string) ([]byte, bool, error) {
	user, err := checkDoorAddress(door, user, key)
	if err != nil {
		return nil, false, err
	}
	var value []byte
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx,
			"SELECT value FROM door_data WHERE door = ? AND \"user\" = ? AND key = ?",
			door, user, key).Scan(&value)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrapDoor("door get", err)
	}
	return value, true, nil
}

// DoorSet implements DoorStore.
func (s *SQLite) DoorSet(ctx context.Context, door, user, key string, value []byte) error {
	user, err := checkDoorAddress(door, user, key)
	if err != nil {
		return err
	}
	score, err := doorScore(value)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx txConn) error {
		return putDoorValue(ctx, tx, door, user, key, value, score)
	})
	return wrapDoor("door set", err)
}

// putDoorValue writes one value in tx, refusing a new key past MaxDoorKeys.
func putDoorValue(ctx context.Context, tx txConn, door, user, key string, value []byte, score *float64) error {
	var exists int
	err := tx.QueryRowContext(ctx,
		"SELECT count(*) FROM door_data WHERE door = ? AND \"user\" = ? AND key = ?",
		door, user, key).Scan(&exists)
	if err != nil {
		return err
	}
	if exists == 0 {
		var n int
		err := tx.QueryRowContext(ctx,
			"SELECT count(*) FROM door_data WHERE door = ? AND \"user\" = ?", door, user).Scan(&n)
		if err != nil {
			return err
		}
		if n >= MaxDoorKeys {
			return fmt.Errorf("%w: %d keys already in door %q", ErrDoorFull, n, door)
		}
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO door_data (door, "user", key, value, score, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (door, "user", key) DO UPDATE
		 SET value = excluded.value, score = excluded.score,
		     updated_at = CASE WHEN door_data.value = excluded.value
		                       THEN door_data.updated_at ELSE excluded.updated_at END`,
		door, user, key, string(value), score, nowMillis())
	return err
}

// DoorDelete implements DoorStore.
func (s *SQLite) DoorDelete(ctx context.Context, door, user, key string) error {
	user, err := checkDoorAddress(door, user, key)
	if err != nil {
		return err
	}
	err = s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx,
			"DELETE FROM door_data WHERE door = ? AND \"user\" = ? AND key = ?", door, user, key)
		return err
	})
	return wrapDoor("door delete", err)
}

// DoorAdd implements DoorStore. The read and the write share one
// IMMEDIATE transaction on the single writer.
func (s *SQLite) DoorAdd(ctx context.Context, door, user, key string, delta float64) (float64, error) {
	user, err := checkDoorAddress(door, user, key)
	if err != nil {
		return 0, err
	}
	var sum float64
	err = s.inTx(ctx, func(tx txConn) error {
		var old sql.NullFloat64
		err := tx.QueryRowContext(ctx,
			"SELECT score FROM door_data WHERE door = ? AND \"user\" = ? AND key = ?",
			door, user, key).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case !old.Valid:
			return fmt.Errorf("%w: %q is not a number", ErrDoorValue, clip(key))
		}
		sum = old.Float64 + delta
		value, err := numberJSON(sum)
		if err != nil {
			return err
		}
		return putDoorValue(ctx, tx, door, user, key, value, &sum)
	})
	if err != nil {
		return 0, wrapDoor("door add", err)
	}
	return sum, nil
}

// DoorTop implements DoorStore.
func (s *SQLite) DoorTop(ctx context.Context, door, key string, n int, order DoorOrder) ([]DoorEntry, error) {
	if err := CheckDoorName(door); err != nil {
		return nil, err
	}
	if err := checkDoorKey(key); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxDoorTop {
		return nil, fmt.Errorf("store: door top: n = %d, want 1 to %d", n, MaxDoorTop)
	}
	direction := "DESC"
	switch order {
	case HighestFirst:
	case LowestFirst:
		direction = "ASC"
	default:
		return nil, fmt.Errorf("store: door top: unknown order %d", order)
	}
	query := `SELECT "user", score, updated_at FROM door_data
		WHERE door = ? AND key = ? AND score IS NOT NULL AND "user" <> ''
		ORDER BY score ` + direction + `, updated_at, "user" LIMIT ?`
	top, err := readAll(ctx, s, scanDoorEntry, query, door, key, n)
	if err != nil {
		return nil, wrapDoor("door top", err)
	}
	return top, nil
}

// scanDoorEntry reads a leaderboard entry: user, score, updated_at.
func scanDoorEntry(row scanner) (DoorEntry, error) {
	var e DoorEntry
	var ms int64
	err := row.Scan(&e.User, &e.Score, &ms)
	e.Updated = fromMillis(ms)
	return e, err
}
