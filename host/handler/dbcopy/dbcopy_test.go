package dbcopy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/dbcopy"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// mustFull lists the tables the test board must fill, so a dump
// comparison cannot pass on empty tables.
var mustFull = []string{"users", "messages", "mail", "areas", "last_read", "door_data", "calls", "oneliners",
	"journals", "journal_entries", "shared_values", "shared_events", "user_groups", "time_used", "call_clocks",
	"ssh_keys", "events", "event_runs", "login_attempts", "registrations", "ftn_posts", "ftn_mail", "ftn_netmail_out", "ftn_staged", "ftn_dupes", "ftn_links",
	"ftn_state", "nodes", "lines", "line_callers", "login_addrs"}

func TestCopySQLiteToSQLiteIdentical(t *testing.T) {
	dir := t.TempDir()
	from := openSQLite(t, newBoard(t, dir, "from.db", true))
	toPath := newBoard(t, dir, "to.db", false)
	to := openSQLite(t, toPath)

	rep, err := dbcopy.Copy(context.Background(), from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := dump(t, from)
	for _, name := range mustFull {
		if len(want[name]) == 0 {
			t.Errorf("the test board has no rows in %s", name)
		}
	}
	sameDump(t, want, dump(t, to))
	if len(rep.Tables) != len(want) {
		t.Errorf("report has %d tables, the board %d", len(rep.Tables), len(want))
	}
	for _, tr := range rep.Tables {
		if tr.Source != tr.Target || int(tr.Source) != len(want[tr.Table]) {
			t.Errorf("report %+v, the board has %d rows", tr, len(want[tr.Table]))
		}
	}

	// The copy is a working board: passwords, mail, the sysop as the
	// source had them, and the triggers back (a new first... second
	// user is no sysop; a level change still sets security).
	to.DB.Close()
	s, err := store.Open(toPath, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if ok, err := s.AuthUser(ctx, "bob", "secret bob"); !ok || err != nil {
		t.Errorf("bob's password after the copy: %v %v", ok, err)
	}
	for name, level := range map[string]string{"ann": "user", "bob": "sysop"} {
		a, err := s.Account(ctx, name)
		if err != nil || a.Level != level {
			t.Errorf("%s after the copy: level %q, %v; want %q", name, a.Level, err, level)
		}
	}
	if err := s.RegisterUser(ctx, "dee", "secret dee"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, "dee"); a.Level == "sysop" {
		t.Errorf("a user registered after the copy is %q", a.Level)
	}
	if err := s.SetLevel(ctx, "dee", "sysop"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account(ctx, "dee"); a.Security != 255 {
		t.Errorf("dee made sysop after the copy has security %d: the trigger is gone", a.Security)
	}
	if _, err := s.Post(ctx, store.NewPost{Area: "tech", Author: "dee", Subject: "after", Lines: []string{"x"}}); err != nil {
		t.Errorf("post after the copy: %v", err)
	}
}

func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	dir := t.TempDir()
	from := openSQLite(t, newBoard(t, dir, "from.db", true))
	to := openSQLite(t, newBoard(t, dir, "to.db", false))
	if _, err := dbcopy.Copy(context.Background(), from, to, nil); err != nil {
		t.Fatal(err)
	}
	before := dump(t, to)
	_, err := dbcopy.Copy(context.Background(), from, to, nil)
	if !errors.Is(err, dbcopy.ErrNotEmpty) {
		t.Fatalf("second copy: %v, want ErrNotEmpty", err)
	}
	t.Log(err)
	sameDump(t, before, dump(t, to))
}

func TestCopyRefusesOnlineBoard(t *testing.T) {
	dir := t.TempDir()
	path := newBoard(t, dir, "from.db", true)
	s, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimLine(context.Background(), store.LineBeat{Line: 2, Route: "@bbs.2", Instance: "i-2", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	from := openSQLite(t, path)
	to := openSQLite(t, newBoard(t, dir, "to.db", false))
	empty := dump(t, to)
	_, err = dbcopy.Copy(context.Background(), from, to, nil)
	if !errors.Is(err, dbcopy.ErrOnline) {
		t.Fatalf("copy of an online board: %v, want ErrOnline", err)
	}
	sameDump(t, empty, dump(t, to))
	// Ten seconds later the line is down: the copy goes ahead.
	later := func() time.Time { return time.Now().Add(10 * time.Second) }
	if _, err := dbcopy.Copy(context.Background(), from, to, later); err != nil {
		t.Fatal(err)
	}
}

func TestCopyRefusesOtherSchema(t *testing.T) {
	dir := t.TempDir()
	from := openSQLite(t, newBoard(t, dir, "from.db", true))
	to := openSQLite(t, newBoard(t, dir, "to.db", false))
	if _, err := to.DB.Exec("ALTER TABLE oneliners ADD COLUMN mood TEXT"); err != nil {
		t.Fatal(err)
	}
	_, err := dbcopy.Copy(context.Background(), from, to, nil)
	if !errors.Is(err, dbcopy.ErrSchemaMismatch) {
		t.Fatalf("copy between schemas: %v, want ErrSchemaMismatch", err)
	}
	t.Log(err)
}
