package store

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/mattn/go-sqlite3"
)

// Transactions on SQLite run between BEGIN and COMMIT statements on one
// connection held for them (connTx), not as a *sql.Tx: database/sql starts a
// goroutine per *sql.Tx to watch its context, and starting and waking it
// cost a store call more than a short statement does (a futex wake of
// another thread on every commit). The statements come from the driver's
// per-connection cache like any other. On PostgreSQL they stay *sql.Tx
// (sqlTx), serialisable and run again on a serialisation failure.

// txConn is what a transaction's statements run on: the connection held
// between its BEGIN and its COMMIT (SQLite), or a *sql.Tx (PostgreSQL).
type txConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// How connTx begins a transaction.
const (
	// beginWrite takes the write lock at once, so that a transaction
	// that reads before it writes never has to give up for a writer that
	// came in between (it waits the busy timeout for the lock instead).
	beginWrite = "BEGIN IMMEDIATE"
	// beginRead starts a transaction whose reads see one snapshot.
	beginRead = "BEGIN"
)

// connTx runs fn between begin and COMMIT on one connection of db, and
// rolls back if fn or the commit fails (or fn panics). A connection still
// in a transaction after that is discarded, never handed to another call.
func connTx(ctx context.Context, db *sql.DB, begin string, fn func(tx txConn) error) (err error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			abandon(ctx, c)
		}
		c.Close()
	}()
	if _, err := c.ExecContext(ctx, begin); err != nil {
		return err
	}
	if err := fn(c); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	done = true
	return nil
}

// abandon rolls back c's transaction, if it is still in one, and marks c
// bad if it stays in it.
func abandon(ctx context.Context, c *sql.Conn) {
	_, _ = c.ExecContext(ctx, "ROLLBACK") // a failed COMMIT or BEGIN leaves none
	_ = c.Raw(func(dc any) error {
		if sc, ok := dc.(*sqlite3.SQLiteConn); ok && !sc.AutoCommit() {
			return driver.ErrBadConn
		}
		return nil
	})
}

// writeTx runs fn in one write transaction on p's writer: BEGIN IMMEDIATE
// on SQLite, serialisable and run again on serialisation failures on
// PostgreSQL. A journal Rider on ctx rides in it (rider.go).
func (s *SQLite) writeTx(ctx context.Context, p *pools, fn func(tx txConn) error) error {
	return s.ridingTx(ctx, p, fn)
}

// plainWriteTx is writeTx without a Rider.
func (s *SQLite) plainWriteTx(ctx context.Context, p *pools, fn func(tx txConn) error) error {
	if s.pg == nil {
		return connTx(ctx, p.w, beginWrite, fn)
	}
	return s.retryTx(ctx, func() error { return sqlTx(ctx, p.w, s.txOptions(), fn) })
}

// sqlTx runs fn in a database/sql transaction on db begun with opts and
// commits it if fn succeeds.
func sqlTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx txConn) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
