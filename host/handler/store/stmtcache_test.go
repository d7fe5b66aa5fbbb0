package store

import (
	"context"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// prepareCounter counts what SQLite compiles on the store's connections.
// SQLite calls the authorizer while it prepares a statement (several
// times: once per table and column the statement touches) and never while
// a prepared statement runs, so a call that prepares nothing leaves the
// counts as they were.
type prepareCounter struct {
	mu sync.Mutex
	// checks counts the authorizer's calls by action, and the object
	// they are about ("SELECT", "READ users.name", ...).
	checks map[string]int
}

// hook registers the counter as the authorizer of a new connection.
func (c *prepareCounter) hook(conn *sqlite3.SQLiteConn) error {
	conn.RegisterAuthorizer(c.authorize)
	return nil
}

// authorize counts one check and allows it.
func (c *prepareCounter) authorize(action int, arg1, arg2, _ string) int {
	key := strconv.Itoa(action) + " " + arg1 + " " + arg2
	switch action {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE:
		// One per statement (a subquery's SELECT is one more).
		key = "statement " + key
	case sqlite3.SQLITE_TRANSACTION:
		// go-sqlite3 runs COMMIT and ROLLBACK (and BEGIN under a context
		// that cannot end) through sqlite3_exec, which prepares them each
		// time: a few microseconds, counted apart.
		key = "transaction"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checks == nil {
		c.checks = make(map[string]int)
	}
	c.checks[key]++
	return sqlite3.SQLITE_OK
}

// snapshot returns a copy of the counts.
func (c *prepareCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.checks))
	for k, v := range c.checks {
		out[k] = v
	}
	return out
}

// since returns the counts that grew after before, but the transaction
// statements', with the number of statements among them.
func (c *prepareCounter) since(before map[string]int) (grown []string, statements int) {
	for k, v := range c.snapshot() {
		if d := v - before[k]; d > 0 && k != "transaction" {
			grown = append(grown, k+" +"+strconv.Itoa(d))
			if strings.HasPrefix(k, "statement ") {
				statements += d
			}
		}
	}
	sort.Strings(grown)
	return grown, statements
}

// TestVisitPreparesNothingTwice runs the store calls of the shipped
// board's visits (a new user's and a returning user's, password checks
// included) and checks that once each statement has been prepared on its
// connection, another visit prepares none again.
func TestVisitPreparesNothingTwice(t *testing.T) {
	var count prepareCounter
	opts := testOptions
	opts.connectHook = count.hook
	s, err := Open(filepath.Join(t.TempDir(), "bbs.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mustRegister(t, s, "ann", "bob")

	visits := 0
	visit := func() {
		t.Helper()
		visits++
		// A new user: the registration throttle, the account, the call.
		name := "new" + strconv.Itoa(visits)
		if _, err := s.UserExists(ctx, name); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginRegistration(ctx, "127.0.0.1", time.Now(), 1<<30, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.RegisterUser(ctx, name, "pw-"+name); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordCall(ctx, name); err != nil {
			t.Fatal(err)
		}
		// Returning users: the password check, then the visit.
		if ok, err := s.AuthUser(ctx, "ann", "pw-ann"); !ok || err != nil {
			t.Fatalf("AuthUser = %v, %v", ok, err)
		}
		for _, pair := range [][2]string{{"ann", "bob"}, {"bob", "ann"}} {
			if err := returningVisit(ctx, s, pair[0], pair[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	visit()
	first, _ := count.since(nil)
	visit() // a statement a branch of the first visit skipped
	before := count.snapshot()
	for range 3 {
		visit()
	}
	if grown, n := count.since(before); len(grown) > 0 {
		t.Errorf("three more visits prepared %d statements again: %v", n, grown)
	}
	if len(first) == 0 {
		t.Error("the first visit prepared nothing: the counter does not see prepares")
	}
}
