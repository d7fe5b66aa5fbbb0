package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/crypto/bcrypt"
)

// migrationFiles holds the schema migrations, applied in numeric order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// DefaultBusyTimeout is how long a statement waits for another process's
// lock on the database when Options.BusyTimeout is zero.
const DefaultBusyTimeout = 5 * time.Second

// Options configures Open. The zero value is ready to use.
type Options struct {
	// BcryptCost is the bcrypt cost for new passwords; 0 means
	// bcrypt.DefaultCost. Tests use bcrypt.MinCost.
	BcryptCost int
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Log receives migration and reconnect events; nil discards them.
	Log *slog.Logger
	// Sync is SyncNormal (when empty) or SyncFull: see those.
	Sync string
	// NewUsersWait makes every user registered after the first wait for
	// the sysop's approval (Access.Approve), at SecurityNew.
	NewUsersWait bool

	// connectHook, if set, runs on every new connection (tests).
	connectHook func(*sqlite3.SQLiteConn) error
	// checkpointEvery and walRestartFrames replace checkpointInterval
	// and walRestartFrames when positive (tests); a negative
	// checkpointEvery leaves checkpoints to SQLite's commits, as before
	// the checkpointer (benchmarks). writerAutocheckpoint replaces the
	// writer's backstop when positive, and turns it off when negative
	// (tests of the checkpointer alone).
	checkpointEvery      time.Duration
	walRestartFrames     int
	writerAutocheckpoint int
}

// SQLite is a Store in one SQLite database file, or, opened with a
// PostgreSQL DSN, in a PostgreSQL database (pg.go): the SQL is the same.
// Create it with Open.
type SQLite struct {
	path       string // absolute
	cost       int
	busy       time.Duration
	sync       string // SQLite's synchronous pragma
	wait       bool   // Options.NewUsersWait
	log        *slog.Logger
	migrations []migration

	connectHook func(*sqlite3.SQLiteConn) error // Options.connectHook
	// ckptEvery, walRestart and writerAuto are Options.checkpointEvery,
	// Options.walRestartFrames and Options.writerAutocheckpoint.
	ckptEvery  time.Duration
	walRestart int
	writerAuto int
	// readOnly says the store was opened by OpenReadOnly: every
	// connection is read-only (sqlite_readonly.go).
	readOnly bool
	// pg is set when the store is on PostgreSQL (pg.go): the same SQL
	// then runs through pgx, and path is the DSN without its password.
	pg *pgConfig

	// mu is held for reading by every call while it uses the pools and for
	// writing by Reconnect and Close while they swap them.
	mu    sync.RWMutex
	pools *pools // nil once closed
}

var _ Store = (*SQLite)(nil)

// pools are the connections to one database file.
type pools struct {
	w *sql.DB // the only writer: one connection, BEGIN IMMEDIATE
	r *sql.DB // read-only connections
	// ckpt checkpoints the WAL off the commit path (SQLite, not
	// read-only; sqlite_checkpoint.go); nil otherwise.
	ckpt *checkpointer
}

// close stops the checkpointer, then closes the readers so that the
// writer, closing last, can checkpoint the WAL.
func (p *pools) close() error {
	var ckptErr error
	if p.ckpt != nil {
		ckptErr = p.ckpt.stop()
	}
	return errors.Join(ckptErr, p.r.Close(), p.w.Close())
}

// Open opens the database at path, creating its directory (mode 0700) and
// the file (mode 0600) if needed, and brings its schema up to date. A
// postgres:// or postgresql:// URL instead (IsPostgres) opens that
// PostgreSQL database, whose schema it likewise brings up to date.
func Open(path string, opts Options) (*SQLite, error) {
	if IsPostgres(path) {
		return openPostgres(path, opts, false)
	}
	return openWith(path, opts, migrationFiles)
}

// openWith is Open with the migrations read from fsys (migrations/*.sql).
func openWith(dbPath string, opts Options, fsys fs.FS) (*SQLite, error) {
	if dbPath == "" || strings.HasPrefix(dbPath, ":memory:") || strings.HasPrefix(dbPath, "file:") {
		return nil, fmt.Errorf("store: open: %q is not a file path", dbPath)
	}
	s := &SQLite{connectHook: opts.connectHook, ckptEvery: opts.checkpointEvery, walRestart: opts.walRestartFrames,
		writerAuto: opts.writerAutocheckpoint}
	if err := s.setOptions(opts); err != nil {
		return nil, err
	}
	var err error
	if s.migrations, err = loadMigrations(fsys); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if s.path, err = filepath.Abs(dbPath); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// Switching a new file to WAL takes an exclusive lock that the busy
	// timeout does not wait for: several hosts opening one new database at
	// once retry for as long as the busy timeout.
	deadline := time.Now().Add(s.busy)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		s.pools, err = s.openPools(context.Background())
		if err == nil {
			return s, nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return nil, wrap("open", err)
		}
		time.Sleep(wait) // SQLite offers no signal for a lock released
	}
}

// setOptions checks opts and sets what they say on a store being opened,
// defaults in place of zero values.
func (s *SQLite) setOptions(opts Options) error {
	s.cost, s.busy, s.log, s.wait = opts.BcryptCost, opts.BusyTimeout, opts.Log, opts.NewUsersWait
	if s.cost == 0 {
		s.cost = bcrypt.DefaultCost
	}
	if s.cost < bcrypt.MinCost || s.cost > bcrypt.MaxCost {
		return fmt.Errorf("store: open: bcrypt cost %d outside %d..%d", s.cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if s.busy == 0 {
		s.busy = DefaultBusyTimeout
	}
	if s.busy < 0 {
		return fmt.Errorf("store: open: negative busy timeout %v", s.busy)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.sync, err = syncPragma(opts.Sync); err != nil {
		return fmt.Errorf("store: open: %w", err)
	}
	return nil
}

// isBusy reports whether err is SQLite's "database is locked" or "busy".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// openPools connects to the file, checks WAL mode and migrates the schema.
func (s *SQLite) openPools(ctx context.Context) (*pools, error) {
	if s.pg != nil {
		return s.openPGPools(ctx)
	}
	if s.readOnly {
		return s.openReadOnlyPools(ctx)
	}
	busy := strconv.FormatInt(max(s.busy.Milliseconds(), 1), 10)
	wc := s.connector(url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {s.sync},
		"_foreign_keys": {"1"},
		"_busy_timeout": {busy},
		"_txlock":       {"immediate"},
		// Deleted content (ended sessions' journals, what callers
		// typed) is overwritten with zeros, free pages included, rather
		// than left in the file. Its old frames stay in the WAL until a
		// checkpoint: PruneJournals truncates the WAL every minute.
		"_secure_delete":   {"ON"},
		"_stmt_cache_size": {strconv.Itoa(writerStmtCache)},
	})
	wc.pragmas = s.writerPragmas() // checkpoints off the commit path
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, err
	}
	if !strings.EqualFold(mode, "wal") {
		w.Close()
		return nil, fmt.Errorf("journal mode is %q, not WAL", mode)
	}
	if err := s.migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// Readers: no journal_mode (a read-only connection cannot set it; the
	// writer already has), and mode=ro so a stray write fails loudly.
	r := sql.OpenDB(s.connector(url.Values{
		"mode":             {"ro"},
		"_foreign_keys":    {"1"},
		"_busy_timeout":    {busy},
		"_stmt_cache_size": {strconv.Itoa(readerStmtCache)},
	}))
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	p := &pools{w: w, r: r}
	if s.ckptEvery >= 0 {
		var err error
		if p.ckpt, err = s.startCheckpointer(w, busy); err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// dsn is a go-sqlite3 URI for the database file with params.
func (s *SQLite) dsn(params url.Values) string {
	// SQLite decodes %HH in URI paths and stops the path at '?' or '#'.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(s.path))
	return "file:" + p + "?" + params.Encode()
}

// migration is one numbered schema file.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNN_name.sql from fsys, sorted by number.
// The numbers must run 1, 2, 3... without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	return loadMigrationsIn(fsys, "migrations")
}

// loadMigrationsIn is loadMigrations from folder dir of fsys.
func loadMigrationsIn(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var migs []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migrations: %s: name must be NNN_description.sql", base)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		migs = append(migs, migration{version: v, name: base, sql: string(text)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	for i, m := range migs {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: %s: expected version %d", m.name, i+1)
		}
	}
	return migs, nil
}

// migrate applies the migrations newer than the database's user_version,
// each in its own IMMEDIATE transaction that also bumps the version, so
// another process migrating the same file at the same time is harmless.
//
// On PostgreSQL the steps are pgMigrateOne's.
func (s *SQLite) migrate(ctx context.Context, w *sql.DB) error {
	step := s.migrateOne
	if s.pg != nil {
		step = s.pgMigrateOne
	}
	for {
		done, err := step(ctx, w)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, or reports that none is due.
func (s *SQLite) migrateOne(ctx context.Context, w *sql.DB) (done bool, err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	switch {
	case v > len(s.migrations):
		return false, fmt.Errorf("%w: database is at version %d, this program knows up to %d", ErrSchemaTooNew, v, len(s.migrations))
	case v == len(s.migrations):
		return true, nil
	case v < 0:
		return false, fmt.Errorf("migrate: negative schema version %d", v)
	}
	m := s.migrations[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	// PRAGMA takes no parameters; m.version is an int we parsed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.name, err)
	}
	s.log.Info("store: applied migration", "path", s.path, "version", m.version, "file", m.name)
	return false, nil
}

// with runs fn with the current pools, holding them open until it returns.
func (s *SQLite) with(fn func(p *pools) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pools == nil {
		return ErrClosed
	}
	return fn(s.pools)
}

// inTx runs fn in an IMMEDIATE transaction on the writer and commits it if
// fn succeeds. On PostgreSQL the transaction is serialisable and runs
// again on a serialisation failure (retryTx): fn must not keep anything
// from an earlier attempt.
func (s *SQLite) inTx(ctx context.Context, fn func(tx txConn) error) error {
	return s.with(func(p *pools) error { return s.writeTx(ctx, p, fn) })
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryer is a *sql.DB or a txConn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs query on q and reads every row it returns with scan. The
// list is empty, not nil, when no row matches; it is nil with an error.
func queryAll[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, nil
}

// readAll is queryAll on the read pool.
func readAll[T any](ctx context.Context, s *SQLite, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var list []T
	err := s.with(func(p *pools) (err error) {
		list, err = queryAll(ctx, p.r, scan, query, args...)
		return err
	})
	return list, err
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint error
// (or PostgreSQL's, SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique || isPGCode(err, "23505")
}

// wrap adds context to err unless it is nil or one of our sentinels
// (which already say "store: ...").
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, sentinel := range []error{ErrNotFound, ErrUserExists, ErrNoSuchUser, ErrBadName, ErrBadPassword, ErrTooLarge, ErrClosed, ErrSchemaTooNew, ErrLineTaken, ErrThrottled, ErrUnstorableText} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	if fault := asFault(op, err); fault != nil {
		return fault
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// nowMillis is the current time as stored: Unix milliseconds.
func nowMillis() int64 { return time.Now().UnixMilli() }

// fromMillis turns a stored time into a UTC time.Time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// lookupUser returns the id and registered spelling of name in tx, or an
// error wrapping ErrNoSuchUser; role names the user in that error.
func lookupUser(ctx context.Context, tx txConn, role, name string) (int64, string, error) {
	canon, err := canonicalName(name)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %s %q", ErrNoSuchUser, role, clip(name))
	}
	var id int64
	err = tx.QueryRowContext(ctx, "SELECT id, name FROM users WHERE name = ?", canon).Scan(&id, &canon)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("%w: %s %q", ErrNoSuchUser, role, canon)
	}
	return id, canon, err
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// UserExists implements Store.
func (s *SQLite) UserExists(ctx context.Context, name string) (bool, error) {
	name, err := canonicalName(name)
	if err != nil {
		return false, nil
	}
	var n int
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE name = ?", name).Scan(&n)
	})
	if err != nil {
		return false, wrap("user exists", err)
	}
	return n > 0, nil
}

// AuthUser implements Store: PasswordHash, then CheckPasswordHash, which
// runs outside any database lock.
func (s *SQLite) AuthUser(ctx context.Context, name, password string) (bool, error) {
	hash, err := s.PasswordHash(ctx, name, password)
	if err != nil {
		return false, err
	}
	return CheckPasswordHash(name, hash, password)
}

// PasswordHash implements Passwords.
func (s *SQLite) PasswordHash(ctx context.Context, name, password string) ([]byte, error) {
	name, err := canonicalName(name)
	if err != nil || checkPassword(password) != nil {
		return nil, nil // no such user could exist, or such a password be set
	}
	var hash []byte
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT password_hash FROM users WHERE name = ?", name).Scan(&hash)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("auth user", err)
	}
	return hash, nil
}

// RegisterUser implements Store: CheckRegistration, HashPassword (before
// the write lock is taken), then RegisterHashed.
func (s *SQLite) RegisterUser(ctx context.Context, name, password string) error {
	if err := s.CheckRegistration(ctx, name, password); err != nil {
		return err
	}
	hash, err := s.HashPassword(password)
	if err != nil {
		return err
	}
	return s.RegisterHashed(ctx, name, hash)
}

// CheckRegistration implements Passwords.
func (s *SQLite) CheckRegistration(ctx context.Context, name, password string) error {
	name, err := canonicalName(name)
	if err != nil {
		return err
	}
	if !hasLetter(name) {
		return fmt.Errorf("%w: a name needs a letter", ErrBadName)
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	// Spare the hashing when the name is plainly taken; the UNIQUE
	// constraint still settles races.
	if exists, err := s.UserExists(ctx, name); err != nil {
		return wrap("register user", err)
	} else if exists {
		return fmt.Errorf("%w: %q", ErrUserExists, name)
	}
	return nil
}

// HashPassword implements Passwords.
func (s *SQLite) HashPassword(password string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return nil, fmt.Errorf("store: register user: %w", err)
	}
	return hash, nil
}

// RegisterHashed implements Passwords.
func (s *SQLite) RegisterHashed(ctx context.Context, name string, hash []byte) error {
	name, err := canonicalName(name)
	if err != nil {
		return err
	}
	err = s.with(func(p *pools) error {
		if s.wait { // the first user's trigger lets them in at once
			_, err := p.w.ExecContext(ctx,
				"INSERT INTO users (name, password_hash, created_at, waiting, security, level) VALUES (?, ?, ?, 1, ?, ?)",
				name, string(hash), nowMillis(), SecurityNew, LevelNew)
			return err
		}
		_, err := p.w.ExecContext(ctx,
			"INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
			name, string(hash), nowMillis())
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %q", ErrUserExists, name)
	}
	return wrap("register user", err)
}

// PostMessage implements Store: it is Post to DefaultArea without a
// subject.
func (s *SQLite) PostMessage(ctx context.Context, author string, lines []string) (Message, error) {
	p, err := s.post(ctx, "post message", NewPost{Area: DefaultArea, Author: author, Lines: lines})
	if err != nil {
		return Message{}, err
	}
	return Message{ID: p.ID, Author: p.Author, Lines: p.Lines, Posted: p.Posted}, nil
}

// MessageCount implements Store.
func (s *SQLite) MessageCount(ctx context.Context) (int, error) {
	var n int
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT coalesce(max(seq) + 1, 0) FROM messages WHERE area_id = ?", defaultAreaID).Scan(&n)
	})
	if err != nil {
		return 0, wrap("message count", err)
	}
	return n, nil
}

// MessageAt implements Store.
func (s *SQLite) MessageAt(ctx context.Context, i int) (Message, error) {
	if i < 0 {
		return Message{}, fmt.Errorf("%w: message %d", ErrNotFound, i)
	}
	var (
		m      Message
		body   string
		count  int
		posted int64
	)
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx,
			`SELECT m.id, u.name, m.body, m.line_count, m.posted_at
			 FROM messages m JOIN users u ON u.id = m.author_id
			 WHERE m.area_id = ? AND m.seq = ?`, defaultAreaID, i).Scan(&m.ID, &m.Author, &body, &count, &posted)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("%w: message %d", ErrNotFound, i)
	}
	if err != nil {
		return Message{}, wrap("message at", err)
	}
	m.Lines = decodeLines(body, count)
	m.Posted = fromMillis(posted)
	return m, nil
}

// SendMail implements Store: it is WriteMail without a subject.
func (s *SQLite) SendMail(ctx context.Context, to, from string, lines []string) (Mail, error) {
	m, err := s.writeMail(ctx, "send mail", to, from, "", lines)
	if err != nil {
		return Mail{}, err
	}
	return Mail{ID: m.ID, To: m.To, From: m.From, Lines: m.Lines, Sent: m.Sent}, nil
}

// UnreadMailCount implements Store.
func (s *SQLite) UnreadMailCount(ctx context.Context, user string) (int, error) {
	name, err := canonicalName(user)
	if err != nil {
		return 0, nil
	}
	var n int
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx,
			`SELECT count(*) FROM mail
			 WHERE to_id = (SELECT id FROM users WHERE name = ?) AND read_at IS NULL`,
			name).Scan(&n)
	})
	if err != nil {
		return 0, wrap("unread mail count", err)
	}
	return n, nil
}

// ReadNextMail implements Store. The select and the update share one
// IMMEDIATE transaction on the single writer, so no two callers can take
// the same mail.
func (s *SQLite) ReadNextMail(ctx context.Context, user string) (Mail, error) {
	name, err := canonicalName(user)
	if err != nil {
		return Mail{}, fmt.Errorf("%w: no unread mail for %q", ErrNotFound, clip(user))
	}
	var m Mail
	err = s.inTx(ctx, func(tx txConn) error {
		var (
			body  string
			count int
			sent  int64
		)
		err := tx.QueryRowContext(ctx,
			`SELECT m.id, t.name, f.name, m.body, m.line_count, m.sent_at
			 FROM mail m
			 JOIN users t ON t.id = m.to_id
			 JOIN users f ON f.id = m.from_id
			 WHERE m.to_id = (SELECT id FROM users WHERE name = ?) AND m.read_at IS NULL
			 ORDER BY m.id LIMIT 1`, name).Scan(&m.ID, &m.To, &m.From, &body, &count, &sent)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no unread mail for %q", ErrNotFound, name)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE mail SET read_at = ? WHERE id = ?", nowMillis(), m.ID); err != nil {
			return err
		}
		m.Lines = decodeLines(body, count)
		m.Sent = fromMillis(sent)
		m.Read = true
		return nil
	})
	if err != nil {
		return Mail{}, wrap("read next mail", err)
	}
	return m, nil
}

// Reconnect implements Store: it waits for calls in flight, opens fresh
// connections (migrating if needed), then closes the old ones. If the
// reopen fails the old connections stay in use and the error is returned.
func (s *SQLite) Reconnect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pools == nil {
		return ErrClosed
	}
	fresh, err := s.openPools(ctx)
	if err != nil {
		return wrap("reconnect", err)
	}
	old := s.pools
	s.pools = fresh
	s.log.Info("store: reconnected", "path", s.path)
	if err := old.close(); err != nil {
		return fmt.Errorf("store: reconnect: close old connections: %w", err)
	}
	return nil
}

// Close implements Store. Closing twice is harmless.
func (s *SQLite) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pools == nil {
		return nil
	}
	err := s.pools.close()
	s.pools = nil
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
