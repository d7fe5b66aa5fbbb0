package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// ErrSchemaTooOld is returned by OpenReadOnly for a database whose schema
// is older than this program's: it cannot migrate it, and the tables it
// would read may not be there yet.
var ErrSchemaTooOld = errors.New("store: database schema older than this program")

// OpenReadOnly opens the existing database at path for reading only, for
// tools that inspect a board while it runs (m2bbs replay, m2bbs upgrade
// -dry-run): every connection is opened read-only (SQLite's mode=ro), so
// that any write a caller of the store attempts fails with a store fault
// and nothing reaches the file. It creates nothing, migrates nothing, and
// refuses a database whose schema is not this program's.
//
// A board in WAL mode that is running keeps the files SQLite needs for
// this; of a board that is not, the directory must be writable for SQLite
// to recreate its shared-memory file.
//
// A PostgreSQL DSN (IsPostgres) opens that database with every session
// read-only (default_transaction_read_only), with the same checks.
func OpenReadOnly(path string, opts Options) (*SQLite, error) {
	if IsPostgres(path) {
		return openPostgres(path, opts, true)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: open read-only: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open read-only: %w", err)
	}
	s := &SQLite{path: abs, busy: opts.BusyTimeout, log: opts.Log, readOnly: true, connectHook: opts.connectHook}
	if s.busy <= 0 {
		s.busy = DefaultBusyTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.migrations, err = loadMigrations(migrationFiles); err != nil {
		return nil, fmt.Errorf("store: open read-only: %w", err)
	}
	if s.pools, err = s.openPools(context.Background()); err != nil {
		return nil, wrap("open read-only", err)
	}
	return s, nil
}

// openReadOnlyPools connects read-only connections to the file, both as
// the writer and as the readers, and checks that the schema is this
// program's.
func (s *SQLite) openReadOnlyPools(ctx context.Context) (*pools, error) {
	busy := strconv.FormatInt(max(s.busy.Milliseconds(), 1), 10)
	open := func(conns int) *sql.DB {
		db := sql.OpenDB(s.connector(url.Values{
			"mode":             {"ro"},
			"_foreign_keys":    {"1"},
			"_busy_timeout":    {busy},
			"_stmt_cache_size": {strconv.Itoa(readerStmtCache)},
		}))
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		return db
	}
	w, r := open(1), open(2)
	p := &pools{w: w, r: r}
	var v int
	if err := r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		p.close()
		return nil, err
	}
	if err := s.versionError(v, true); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}
