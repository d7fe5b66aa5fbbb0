package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var _ Events = (*SQLite)(nil)

// EventDue implements Events. Every host asks it for every event each
// second: the usual answer is read on a reader, and only a new or changed
// event takes the writer.
func (s *SQLite) EventDue(ctx context.Context, name, schedule string, first time.Time) (time.Time, error) {
	var (
		due    int64
		stored string
	)
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT schedule, next_due FROM events WHERE name = ?", name).Scan(&stored, &due)
	})
	switch {
	case err == nil && stored == schedule:
		return fromMillis(due), nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return time.Time{}, wrap("event due", err)
	}
	err = s.inTx(ctx, func(tx txConn) error {
		var stored string
		err := tx.QueryRowContext(ctx, "SELECT schedule, next_due FROM events WHERE name = ?", name).Scan(&stored, &due)
		switch {
		case errors.Is(err, sql.ErrNoRows), err == nil && stored != schedule:
			due = first.UnixMilli()
			_, err = tx.ExecContext(ctx,
				`INSERT INTO events (name, schedule, next_due) VALUES (?, ?, ?)
				 ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule, next_due = excluded.next_due`,
				name, schedule, due)
		}
		return err
	})
	if err != nil {
		return time.Time{}, wrap("event due", err)
	}
	return fromMillis(due), nil
}

// ClaimEvent implements Events.
func (s *SQLite) ClaimEvent(ctx context.Context, name string, due, next time.Time) (bool, error) {
	var n int64
	err := s.with(func(p *pools) error {
		res, err := p.w.ExecContext(ctx, "UPDATE events SET next_due = ? WHERE name = ? AND next_due = ?",
			next.UnixMilli(), name, due.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, wrap("claim event", err)
	}
	return n == 1, nil
}

// RecordEventRun implements Events.
func (s *SQLite) RecordEventRun(ctx context.Context, r EventRun) error {
	if r.Event == "" {
		return fmt.Errorf("store: record event run: no event name")
	}
	err := s.inTx(ctx, func(tx txConn) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO event_runs (event, cause, outcome, error, host, started, ended) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Event, r.Cause, r.Outcome, r.Error, r.Host, r.Started.UnixMilli(), r.Ended.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`DELETE FROM event_runs WHERE event = ? AND id NOT IN
			 (SELECT id FROM event_runs WHERE event = ? ORDER BY id DESC LIMIT ?)`,
			r.Event, r.Event, KeepEventRuns)
		return err
	})
	return wrap("record event run", err)
}

// EventList implements Events.
func (s *SQLite) EventList(ctx context.Context, runs int) ([]EventInfo, error) {
	var out []EventInfo
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx, "SELECT name, schedule, next_due FROM events ORDER BY name")
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				e   EventInfo
				due int64
			)
			if err := rows.Scan(&e.Name, &e.Schedule, &due); err != nil {
				rows.Close()
				return err
			}
			e.NextDue = fromMillis(due)
			out = append(out, e)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for i := range out {
			if out[i].Runs, err = eventRuns(ctx, p.r, out[i].Name, runs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("event list", err)
	}
	return out, nil
}

// eventRuns reads an event's last runs, newest first.
func eventRuns(ctx context.Context, db *sql.DB, name string, limit int) ([]EventRun, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT cause, outcome, error, host, started, ended FROM event_runs WHERE event = ? ORDER BY id DESC LIMIT ?`,
		name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventRun
	for rows.Next() {
		r := EventRun{Event: name}
		var started, ended int64
		if err := rows.Scan(&r.Cause, &r.Outcome, &r.Error, &r.Host, &started, &ended); err != nil {
			return nil, err
		}
		r.Started, r.Ended = fromMillis(started), fromMillis(ended)
		out = append(out, r)
	}
	return out, rows.Err()
}
