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
// included, then the boards, mailbox, doors and phone-line calls) and
// checks that once each statement has been prepared on its connection,
// another visit prepares none again. Without the statement cache three
// visits compiled 542 statements.
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
		otherModules(t, ctx, s)
	}
	if _, err := s.ClaimLine(ctx, visitBeat()); err != nil {
		t.Fatal(err)
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

// TestCachedStatementsFollowAnotherHostsSchemaChange: a statement kept
// prepared on a connection still runs, with the same answers, after
// another connection (another host, migrating) changed the schema of the
// tables it reads and writes.
func TestCachedStatementsFollowAnotherHostsSchemaChange(t *testing.T) {
	s, path := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mustRegister(t, s, "ann", "bob")
	check := func(wantPosts int) {
		t.Helper()
		if _, err := s.PostMessage(ctx, "ann", []string{"hello"}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.MessageCount(ctx); err != nil || n != wantPosts {
			t.Fatalf("MessageCount = %d, %v; want %d", n, err, wantPosts)
		}
		if m, err := s.MessageAt(ctx, wantPosts-1); err != nil || m.Author != "ann" {
			t.Fatalf("MessageAt = %+v, %v", m, err)
		}
		if err := s.RecordCall(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if a, err := s.Account(ctx, "bob"); err != nil || a.Calls != wantPosts {
			t.Fatalf("Account = %+v, %v; want %d calls", a, err, wantPosts)
		}
	}
	check(1) // prepares and keeps the statements
	other := rawDB(t, path)
	for _, ddl := range []string{
		"ALTER TABLE messages ADD COLUMN extra TEXT",
		"ALTER TABLE users ADD COLUMN extra TEXT",
		"CREATE INDEX calls_extra ON calls (at)",
	} {
		if _, err := other.Exec(ddl); err != nil {
			t.Fatal(err)
		}
	}
	check(2)
}

// visitBeat is line 1's heartbeat, now.
func visitBeat() LineBeat {
	return LineBeat{Line: 1, Route: "@bbs.1", Online: 1, Capacity: 10, Instance: "test", PID: 1, Hostname: "localhost", At: time.Now()}
}

// otherModules calls the board, mailbox, door and line functions a visit
// of the shipped board's other menus (boards.lua, doors.lua) and the
// host's heartbeat use.
func otherModules(t *testing.T, ctx context.Context, s *SQLite) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Areas(ctx)
	must(err)
	p, err := s.Post(ctx, NewPost{Area: DefaultArea, Author: "ann", Subject: "hi", Lines: []string{"hello"}})
	must(err)
	_, err = s.Post(ctx, NewPost{Author: "bob", Lines: []string{"re"}, ReplyTo: p.ID})
	must(err)
	_, err = s.PostCount(ctx, DefaultArea)
	must(err)
	_, err = s.Posts(ctx, DefaultArea, 0, 10, NewestFirst)
	must(err)
	_, err = s.ReadPost(ctx, p.ID)
	must(err)
	_, err = s.Thread(ctx, p.ID)
	must(err)
	_, err = s.NewCount(ctx, "bob", DefaultArea)
	must(err)
	_, err = s.NextNew(ctx, "bob", DefaultArea)
	must(err)
	must(s.MarkRead(ctx, "bob", DefaultArea, p.ID))
	m, err := s.WriteMail(ctx, "bob", "ann", "subject", []string{"psst"})
	must(err)
	_, err = s.ListMail(ctx, "bob", 0, 10)
	must(err)
	_, _, err = s.MailCount(ctx, "bob")
	must(err)
	_, err = s.ReadMail(ctx, "bob", m.ID)
	must(err)
	must(s.DeleteMail(ctx, "bob", m.ID))
	must(s.DoorSet(ctx, "dice", "ann", "state", []byte(`{"x":1}`)))
	_, _, err = s.DoorGet(ctx, "dice", "ann", "state")
	must(err)
	_, err = s.DoorAdd(ctx, "dice", "ann", "score", 1)
	must(err)
	_, err = s.DoorTop(ctx, "dice", "score", 10, HighestFirst)
	must(err)
	_, err = s.BeatLine(ctx, visitBeat(), []Presence{{Line: 1, ConnID: "7", User: "ann"}}, []string{"6"})
	must(err)
	_, err = s.LineList(ctx)
	must(err)
	_, err = s.LineCallers(ctx)
	must(err)
	_, err = s.Oneliners(ctx, 10)
	must(err)
	_, err = s.LastCalls(ctx, 10)
	must(err)
}
