package store

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/crypto/bcrypt"
)

// openAccounts opens a store whose schema includes the accounts
// migration.
func openAccounts(t *testing.T) *SQLite {
	t.Helper()
	if onPostgres(t) {
		s, _ := newPGStore(t, Options{BcryptCost: bcrypt.MinCost})
		return s
	}
	s, err := Open(filepath.Join(t.TempDir(), "bbs.db"), Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	for _, name := range []string{"Zed", "ann", "bob"} {
		if err := s.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	zed, err := s.Account(ctx, "ZED")
	if err != nil || zed.Name != "Zed" || zed.Level != LevelSysop || zed.Banned {
		t.Fatalf("first user = %+v, %v; want the sysop", zed, err)
	}
	if ann, _ := s.Account(ctx, "ann"); ann.Level != LevelUser || !ann.LastCall.IsZero() || ann.Calls != 0 {
		t.Errorf("ann = %+v", ann)
	}
	if err := s.SetLevel(ctx, "ann", LevelNew); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLevel(ctx, "ann", "god"); !errors.Is(err, ErrBadLevel) {
		t.Errorf("bad level: %v", err)
	}
	if err := s.SetEncoding(ctx, "ann", "cp437"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEncoding(ctx, "ann", "ebcdic"); !errors.Is(err, ErrBadEncoding) {
		t.Errorf("set encoding ebcdic: %v, want ErrBadEncoding", err)
	}
	if a, _ := s.Account(ctx, "ann"); a.Encoding != "cp437" {
		t.Errorf("ann's encoding = %q, want cp437", a.Encoding)
	}
	if err := s.SetBanned(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBanned(ctx, "nobody", true); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("ban nobody: %v", err)
	}
	list, err := s.Accounts(ctx, 0, 10)
	if err != nil || len(list) != 3 || list[0].Name != "ann" || list[0].Level != LevelNew || !list[1].Banned {
		t.Fatalf("accounts = %+v, %v", list, err)
	}
	if page, _ := s.Accounts(ctx, 2, 10); len(page) != 1 || page[0].Name != "Zed" {
		t.Errorf("second page = %+v", page)
	}
	if err := s.SetBanned(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	if bob, _ := s.Account(ctx, "bob"); bob.Banned {
		t.Error("unban did not stick")
	}

	for _, who := range []string{"ann", "bob", "ANN"} {
		if err := s.RecordCall(ctx, who); err != nil {
			t.Fatal(err)
		}
	}
	calls, err := s.LastCalls(ctx, 2)
	if err != nil || len(calls) != 2 || calls[0].User != "ann" || calls[1].User != "bob" {
		t.Errorf("last calls = %+v, %v", calls, err)
	}
	if ann, _ := s.Account(ctx, "ann"); ann.Calls != 2 || ann.LastCall.IsZero() {
		t.Errorf("ann after two calls = %+v", ann)
	}

	if err := s.AddOneliner(ctx, "bob", "  first!  "); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOneliner(ctx, "ann", "hello wall"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "two\nlines", strings.Repeat("x", MaxOnelinerBytes+1)} {
		if err := s.AddOneliner(ctx, "ann", bad); !errors.Is(err, ErrTooLarge) {
			t.Errorf("one-liner %q: %v", bad, err)
		}
	}
	wall, err := s.Oneliners(ctx, 10)
	if err != nil || len(wall) != 2 || wall[0].Text != "hello wall" || wall[1].User != "bob" || wall[1].Text != "first!" {
		t.Errorf("wall = %+v, %v", wall, err)
	}
}

// TestAccountsMigrationKeepsData upgrades a database created before the
// accounts migration: its users keep their passwords, the oldest becomes
// the sysop.
func TestAccountsMigrationKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bbs.db")
	all, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	init, err := fs.ReadFile(all, "001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old, err := openWith(path, Options{BcryptCost: bcrypt.MinCost}, fstest.MapFS{"migrations/001_init.sql": {Data: init}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"first", "second"} {
		if err := old.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	s, err := Open(path, Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.AuthUser(ctx, "second", "pw"); !ok || err != nil {
		t.Errorf("password lost in the upgrade: %v %v", ok, err)
	}
	if a, _ := s.Account(ctx, "first"); a.Level != LevelSysop {
		t.Errorf("oldest user after upgrade = %+v", a)
	}
	if a, _ := s.Account(ctx, "second"); a.Level != LevelUser {
		t.Errorf("second user after upgrade = %+v", a)
	}
}
