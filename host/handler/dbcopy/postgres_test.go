package dbcopy_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/dbcopy"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// newPostgresBoard migrates a fresh PostgreSQL database and opens it for a
// copy.
func newPostgresBoard(t *testing.T) (dsn string, e dbcopy.Endpoint) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	s, err := store.Open(dsn, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	e, err = dbcopy.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.DB.Close() })
	return dsn, e
}

// TestRoundTripThroughPostgres: a board copied SQLite → PostgreSQL →
// SQLite comes back identical, table by table, value by value (storage
// classes included); on PostgreSQL in between it is a working board
// (passwords, the sysop, a new user's id after the copied ones), and a
// second copy into it is refused.
func TestRoundTripThroughPostgres(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	from := openSQLite(t, newBoard(t, dir, "from.db", true))
	dsn, pg := newPostgresBoard(t)
	rep, err := dbcopy.Copy(ctx, from, pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("to PostgreSQL: %d rows in %d tables in %v", rep.Rows(), len(rep.Tables), rep.Took)
	if _, err := dbcopy.Copy(ctx, from, pg, nil); !errors.Is(err, dbcopy.ErrNotEmpty) {
		t.Errorf("a second copy into PostgreSQL: %v, want ErrNotEmpty", err)
	}

	back := openSQLite(t, newBoard(t, dir, "back.db", false))
	rep, err = dbcopy.Copy(ctx, pg, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("back to SQLite: %d rows in %d tables in %v", rep.Rows(), len(rep.Tables), rep.Took)
	want := dump(t, from)
	for _, name := range mustFull {
		if len(want[name]) == 0 {
			t.Errorf("the test board has no rows in %s", name)
		}
	}
	sameDump(t, want, dump(t, back))

	s, err := store.Open(dsn, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.AuthUser(ctx, "bob", "secret bob"); !ok || err != nil {
		t.Errorf("bob's password on PostgreSQL: %v %v", ok, err)
	}
	for name, level := range map[string]string{"ann": "user", "bob": "sysop"} {
		if a, err := s.Account(ctx, name); err != nil || a.Level != level {
			t.Errorf("%s on PostgreSQL: level %q, %v; want %q", name, a.Level, err, level)
		}
	}
	if err := s.RegisterUser(ctx, "dee", "secret dee"); err != nil {
		t.Fatalf("a new user after the copy (ids must follow the copied ones): %v", err)
	}
	if a, _ := s.Account(ctx, "dee"); a.Level == "sysop" {
		t.Errorf("a user registered after the copy is %q", a.Level)
	}
	if _, err := s.Post(ctx, store.NewPost{Area: "tech", Author: "dee", Subject: "after", Lines: []string{"x"}}); err != nil {
		t.Errorf("post after the copy: %v", err)
	}
}
