package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgMigrationFiles holds PostgreSQL's schema migrations, numbered from 001
// on their own (pgmigrations/001_init.sql is SQLite's 001 to 018).
//
//go:embed pgmigrations/*.sql
var pgMigrationFiles embed.FS

// PostgreSQL connection pools of one host. As on SQLite, a host writes
// through one connection: its writes queue in Go, one transaction at a
// time, so the host's own transactions never conflict with each other
// (several writers at once fought over the same rows, a post's seq above
// all, and lost posts when retries ran out under load); only another
// host's can, and those conflicts are retried (retryTx). Readers run at
// read committed (one statement) or repeatable read (readTx), read-only.
const (
	pgWriterConns = 1
	pgMinReaders  = 4
)

// Serialisation failures and deadlocks are retried for as long as the busy
// timeout (Options.BusyTimeout, 5 s by default: what SQLite waits for
// another process's lock), after a pause doubling from pgRetryPause (with
// jitter) up to pgRetryMaxPause.
const (
	pgRetryPause    = time.Millisecond
	pgRetryMaxPause = 100 * time.Millisecond
)

// pgConnectTimeout bounds a connection's start when the DSN sets no
// connect_timeout.
const pgConnectTimeout = 10 * time.Second

// pgSchemaLock is the advisory lock key migrations take, so hosts starting
// at once migrate one after the other ("m2bbs" in ASCII).
const pgSchemaLock = 0x6d32626273

// pgConfig is the PostgreSQL side of a store opened with a DSN.
type pgConfig struct {
	conn *pgx.ConnConfig
	// sync is synchronous_commit for SyncFull ("on"), or "" to keep the
	// server's setting.
	sync string
}

// IsPostgres reports whether target names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than an SQLite file.
func IsPostgres(target string) bool {
	lower := strings.ToLower(target)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// RedactDSN returns target with any password replaced by "xxxxx", for logs
// and messages; a target that is not a URL is returned as it is.
func RedactDSN(target string) string {
	if !IsPostgres(target) {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "postgres://(unparsable DSN)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// openPostgres is Open for a PostgreSQL DSN.
func openPostgres(dsn string, opts Options, readOnly bool) (*SQLite, error) {
	conf, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, fmt.Errorf("store: open %s: invalid PostgreSQL DSN", RedactDSN(dsn))
	}
	if conf.ConnectTimeout == 0 { // a server that never answers is an error, not a hang
		conf.ConnectTimeout = pgConnectTimeout
	}
	s := &SQLite{path: RedactDSN(dsn), readOnly: readOnly, pg: &pgConfig{conn: conf}}
	if err := s.setOptions(opts); err != nil {
		return nil, err
	}
	if s.sync == "FULL" {
		s.pg.sync = "on"
	}
	if s.migrations, err = loadMigrationsIn(pgMigrationFiles, "pgmigrations"); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if s.pools, err = s.openPools(context.Background()); err != nil {
		return nil, wrap("open "+s.path, err)
	}
	return s, nil
}

// pgDB opens a pool of connections with the store's session settings:
// lock_timeout is the busy timeout (how long a statement waits for a row
// another host locked), and readers are read-only.
func (s *SQLite) pgDB(conns int, readOnly bool) *sql.DB {
	conf := s.pg.conn.Copy()
	params := map[string]string{
		"lock_timeout":     strconv.FormatInt(max(s.busy.Milliseconds(), 1), 10),
		"application_name": "m2bbs",
	}
	for k, v := range conf.RuntimeParams {
		params[k] = v
	}
	if readOnly {
		params["default_transaction_read_only"] = "on"
	}
	if s.pg.sync != "" {
		params["synchronous_commit"] = s.pg.sync
	}
	conf.RuntimeParams = params
	db := sql.OpenDB(pgConnector{next: stdlib.GetConnector(*conf)})
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db
}

// openPGPools connects the writer and reader pools and brings the schema
// up to date (or, read-only, checks that it is this program's).
func (s *SQLite) openPGPools(ctx context.Context) (*pools, error) {
	readers := max(pgMinReaders, 2*runtime.GOMAXPROCS(0))
	p := &pools{w: s.pgDB(pgWriterConns, s.readOnly), r: s.pgDB(readers, true)}
	var err error
	if s.readOnly {
		err = s.pgCheckVersion(ctx, p.r)
	} else {
		err = s.migrate(ctx, p.w)
	}
	if err == nil {
		err = p.r.PingContext(ctx)
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// pgCheckVersion refuses a database whose schema is not this program's.
func (s *SQLite) pgCheckVersion(ctx context.Context, db *sql.DB) error {
	var v int
	err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM m2bbs_schema").Scan(&v)
	if isPGCode(err, "42P01") { // undefined_table: never migrated
		v, err = 0, nil
	}
	if err != nil {
		return err
	}
	return s.versionError(v, true)
}

// versionError refuses a database at schema version v that is newer than
// this program's, or, when exact, older.
func (s *SQLite) versionError(v int, exact bool) error {
	switch {
	case v > len(s.migrations):
		return fmt.Errorf("%w: database is at version %d, this program knows up to %d", ErrSchemaTooNew, v, len(s.migrations))
	case exact && v < len(s.migrations):
		return fmt.Errorf("%w: database is at version %d, this program's is %d (start the board with this program once)", ErrSchemaTooOld, v, len(s.migrations))
	}
	return nil
}

// pgMigrateOne applies the next migration the database lacks, in its own
// transaction with the version bump (m2bbs_schema), under an advisory
// lock so that hosts starting together take turns; or it reports that
// none is due.
// It runs on one of db's connections through pgx itself: a migration is
// several statements, which pgx's simple protocol runs at once.
func (s *SQLite) pgMigrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		done, err = s.pgMigrateOn(ctx, pc.conn.Conn())
		return err
	})
	return done, err
}

// pgMigrateOn is pgMigrateOne on conn.
func (s *SQLite) pgMigrateOn(ctx context.Context, conn *pgx.Conn) (done bool, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgSchemaLock)); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	// Under the lock: hosts creating the table at once would collide.
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS m2bbs_schema (version bigint PRIMARY KEY, applied_at bigint NOT NULL)"); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var v int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM m2bbs_schema").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	if err := s.versionError(v, false); err != nil {
		return false, err
	}
	if v == len(s.migrations) {
		return true, nil
	}
	m := s.migrations[v]
	if _, err := tx.Conn().PgConn().Exec(ctx, m.sql).ReadAll(); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO m2bbs_schema (version, applied_at) VALUES ($1, $2)", m.version, nowMillis()); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	s.log.Info("store: applied migration", "db", s.path, "version", m.version, "file", m.name)
	return false, nil
}

// txOptions is how the store's write transactions begin: SQLite's are
// IMMEDIATE through the writer's DSN (nil options); PostgreSQL's are
// serialisable, so that a transaction that reads and then writes (a
// post's next seq, a journal's count) behaves as it did alone on SQLite's
// single writer.
func (s *SQLite) txOptions() *sql.TxOptions {
	if s.pg == nil {
		return nil
	}
	return &sql.TxOptions{Isolation: sql.LevelSerializable}
}

// readTxOptions is how readTx's transactions begin: one snapshot for all
// their queries (SQLite's read transaction gives it; PostgreSQL needs
// repeatable read).
func (s *SQLite) readTxOptions() *sql.TxOptions {
	if s.pg == nil {
		return nil
	}
	return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
}

// retryTx runs attempt, which runs one whole transaction, again while it
// fails with a PostgreSQL serialisation failure or deadlock, until the
// busy timeout has passed since the first attempt (or ctx ends). attempt
// must start from scratch each time (reset what it reports). SQLite runs
// it once: its busy timeout does the waiting.
func (s *SQLite) retryTx(ctx context.Context, attempt func() error) error {
	pause := pgRetryPause
	deadline := time.Now().Add(s.busy)
	for {
		err := attempt()
		if s.pg == nil || !isPGRetryable(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, pgRetryMaxPause)
	}
}

// isPGCode reports whether err is a PostgreSQL error with SQLSTATE code.
func isPGCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// isPGRetryable reports whether err is a serialisation failure (40001) or
// a deadlock (40P01): the transaction was rolled back and may run again.
func isPGRetryable(err error) bool {
	return isPGCode(err, "40001") || isPGCode(err, "40P01")
}

// pgFault returns err, from op, marked as a fault if PostgreSQL or the
// connection to it failed (an integrity constraint, SQLSTATE class 23, is
// the caller's mistake, not a fault), else nil. SQLSTATE 53100 is a full
// disk. The call's own context ending is no fault, as on SQLite: the
// caller decides (pgx reports it as the context's error, or as the
// statement cancelled, 57014).
func pgFault(op string, err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone) { // a server not reached, however long it took
		return &faultError{op: op, err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isPGCode(err, "57014") {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if strings.HasPrefix(pe.Code, "23") {
			return nil
		}
		return &faultError{op: op, err: err, full: pe.Code == "53100"}
	}
	if pgconn.Timeout(err) { // a network timeout
		return &faultError{op: op, err: err}
	}
	return nil
}
