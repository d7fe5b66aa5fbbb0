package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

func TestIsPostgresAndRedactDSN(t *testing.T) {
	for _, tc := range []struct {
		target string
		pg     bool
		shown  string
	}{
		{"data/bbs.db", false, "data/bbs.db"},
		{"/var/lib/postgres://x.db", false, "/var/lib/postgres://x.db"},
		{"postgres://bbs@db/bbs", true, "postgres://bbs@db/bbs"},
		{"PostgreSQL://bbs:s3cret@db:5432/bbs?sslmode=require", true, "postgresql://bbs:xxxxx@db:5432/bbs?sslmode=require"},
		{"postgres://db/bbs?user=bbs&password=s3cret", true, "postgres://db/bbs?password=xxxxx&user=bbs"},
	} {
		if got := IsPostgres(tc.target); got != tc.pg {
			t.Errorf("IsPostgres(%q) = %v", tc.target, got)
		}
		got := RedactDSN(tc.target)
		if strings.Contains(got, "s3cret") || !strings.EqualFold(got, tc.shown) {
			t.Errorf("RedactDSN(%q) = %q; want %q", tc.target, got, tc.shown)
		}
	}
}

// TestRetryTx: on PostgreSQL a transaction that fails with a
// serialisation failure or a deadlock runs again, until the busy timeout
// has passed; any other outcome ends it. On SQLite it runs once.
func TestRetryTx(t *testing.T) {
	serialization := &pgconn.PgError{Code: "40001"}
	deadlock := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01"})
	unique := &pgconn.PgError{Code: "23505"}
	pg := &SQLite{pg: &pgConfig{}, busy: 300 * time.Millisecond}
	run := func(s *SQLite, results ...error) (int, error) {
		calls := 0
		err := s.retryTx(context.Background(), func() error {
			calls++
			if calls <= len(results) {
				return results[calls-1]
			}
			return results[len(results)-1]
		})
		return calls, err
	}
	if calls, err := run(pg, serialization, deadlock, nil); calls != 3 || err != nil {
		t.Errorf("two conflicts then success: %d calls, %v; want 3, nil", calls, err)
	}
	if calls, err := run(pg, unique); calls != 1 || !errors.Is(err, unique) {
		t.Errorf("a unique violation: %d calls, %v; want 1", calls, err)
	}
	start := time.Now()
	calls, err := run(pg, serialization)
	if took := time.Since(start); calls < 4 || !errors.Is(err, serialization) || took < pg.busy || took > pg.busy+time.Second {
		t.Errorf("conflicts forever: %d calls, %v after %v; want several, and the conflict after the busy timeout (%v)", calls, err, took, pg.busy)
	}
	if calls, err := run(&SQLite{}, serialization); calls != 1 || err == nil {
		t.Errorf("SQLite: %d calls, %v; want 1", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = pg.retryTx(ctx, func() error { calls++; return serialization })
	if calls != 1 || !errors.Is(err, serialization) {
		t.Errorf("canceled context: %d calls, %v; want 1", calls, err)
	}
}

// TestPostgresUnreachableIsAFault: a server that is not there is a store
// fault, and the error names the database without its password.
func TestPostgresUnreachableIsAFault(t *testing.T) {
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(fmt.Sprintf("postgres://bbs:s3cret@127.0.0.1:%d/bbs?connect_timeout=5", port), testOptions)
	if !errors.Is(err, ErrFault) {
		t.Errorf("Open of a closed port = %v; want ErrFault", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestPostgresOpenReadOnly: OpenReadOnly on PostgreSQL reads what the
// board wrote, fails every write with a fault, and refuses a database
// whose schema is not this program's.
func TestPostgresOpenReadOnly(t *testing.T) {
	s, dsn := newPGStore(t, testOptions)
	ctx := t.Context()
	if err := s.RegisterUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ok, err := ro.UserExists(ctx, "ANN"); !ok || err != nil {
		t.Errorf("UserExists read-only = %v, %v", ok, err)
	}
	if _, err := ro.PostMessage(ctx, "ann", []string{"x"}); !errors.Is(err, ErrFault) {
		t.Errorf("a write through the read-only store = %v; want a fault", err)
	}
	if n, err := s.MessageCount(ctx); n != 0 || err != nil {
		t.Errorf("MessageCount = %d, %v; want 0", n, err)
	}
	if _, err := OpenReadOnly(emptyPGTarget(t), Options{}); !errors.Is(err, ErrSchemaTooOld) {
		t.Errorf("OpenReadOnly of an empty database = %v; want ErrSchemaTooOld", err)
	}
}

// TestPostgresNewerSchemaRefused: a database a newer program migrated is
// refused with ErrSchemaTooNew, and left as it is.
func TestPostgresNewerSchemaRefused(t *testing.T) {
	s, dsn := newPGStore(t, testOptions)
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(t.Context(), "INSERT INTO m2bbs_schema (version, applied_at) VALUES (?, 0)", 99)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dsn, testOptions); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open of a newer database = %v; want ErrSchemaTooNew", err)
	}
	if _, err := OpenReadOnly(dsn, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("OpenReadOnly of a newer database = %v; want ErrSchemaTooNew", err)
	}
}

// TestPGFault: what a PostgreSQL error is to the store's callers.
func TestPGFault(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		fault, full bool
	}{
		{"unique violation", &pgconn.PgError{Code: "23505"}, false, false},
		{"foreign key", &pgconn.PgError{Code: "23503"}, false, false},
		{"disk full", &pgconn.PgError{Code: "53100"}, true, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true, false},
		{"the call's deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false, false},
		{"the call cancelled", fmt.Errorf("query: %w", context.Canceled), false, false},
		{"statement cancelled", &pgconn.PgError{Code: "57014"}, false, false},
		{"not PostgreSQL's", errors.New("something else"), false, false},
		{"connect timed out", &pgconn.ConnectError{}, true, false},
	} {
		got := pgFault("op", tc.err)
		if (got != nil) != tc.fault || errors.Is(got, ErrFault) != tc.fault || errors.Is(got, ErrFull) != tc.full {
			t.Errorf("%s: pgFault = %v; want fault %v, full %v", tc.name, got, tc.fault, tc.full)
		}
	}
}
