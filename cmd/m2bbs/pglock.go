package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/live/pgbell"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// takeHandlerLock takes the lock of the handler whose requests come from
// spec: in the database when it is PostgreSQL (hosts on several
// machines), else a file beside the SQLite database (hosts of one
// machine).
func takeHandlerLock(ctx context.Context, s *settings, spec string) (release func(), err error) {
	if store.IsPostgres(s.DBPath) {
		if strings.HasPrefix(spec, "inproc://") {
			return func() {}, nil
		}
		return lockHandlerPG(ctx, s.DBPath, spec)
	}
	return lockHandler(s.DBPath, spec)
}

// sharedEventsBell is the bell of the shared module's events between the
// lines' hosts (live.Bell): on PostgreSQL, its LISTEN/NOTIFY (pgbell), run
// until stop; nil otherwise (the hub polls the store).
func sharedEventsBell(ctx context.Context, s *settings, log *slog.Logger) (bell live.Bell, stop func(), err error) {
	if s.line <= 0 || !store.IsPostgres(s.DBPath) {
		return nil, func() {}, nil
	}
	b, err := pgbell.New(s.DBPath, 0, log)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	return b, func() { cancel(); <-done }, nil
}

// pgLockTimeout bounds connecting for a handler lock and taking it.
const pgLockTimeout = 10 * time.Second

// pgLockWait is how long a host waits for a handler lock another
// connection holds before it says the handler is taken: the server lets
// a killed host's lock go only once it has seen that host's connection
// end, which takes a moment after the kill.
const pgLockWait = 3 * time.Second

// lockHandlerPG takes the lock of the handler whose requests come from
// spec in the PostgreSQL database at dsn, so that hosts on every machine
// see it: a session-level advisory lock, held by a connection of its own
// until release closes it. The server lets it go when the connection
// ends, however the host ended (kill -9 included: the kernel closes the
// socket).
func lockHandlerPG(ctx context.Context, dsn, spec string) (release func(), err error) {
	sum := sha256.Sum256([]byte("m2bbs handler " + spec))
	key := int64(binary.BigEndian.Uint64(sum[:8]))
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "m2bbs handler lock"
	ctx, cancel := context.WithTimeout(ctx, pgLockTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	// The server wakes the wait when the holder lets go; lock_timeout
	// ends it with lock_not_available.
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", pgLockWait.Milliseconds())); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		conn.Close(context.Background())
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgLockNotAvailable {
			return nil, fmt.Errorf("%w (send spec %s, locked in the database by a host on some machine): stop it first, or give this one its own -send-spec and -recv-spec",
				ErrHandlerTaken, spec)
		}
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "RESET lock_timeout"); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	return func() { conn.Close(context.Background()) }, nil
}

// pgLockNotAvailable is PostgreSQL's SQLSTATE for a lock wait that
// reached lock_timeout.
const pgLockNotAvailable = "55P03"
