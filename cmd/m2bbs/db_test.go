package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

func TestDBCopyCommand(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from.db"), filepath.Join(dir, "sub", "to.db")
	s, err := store.Open(from, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"ann", "bob"} {
		if err := s.RegisterUser(ctx, u, "pw "+u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PostMessage(ctx, "ann", []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	var out, errs bytes.Buffer
	if err := dbCopy(ctx, []string{from, to}, &out, &errs); err != nil {
		t.Fatalf("db copy: %v\n%s%s", err, out.String(), errs.String())
	}
	// users: ann, bob and the FTN gateway's author.
	for _, re := range []string{`(?m)^users +3 +3 *$`, `(?m)^messages +1 +1 *$`, `every count checked`} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("report lacks %s:\n%s", re, out.String())
		}
	}
	c, err := store.Open(to, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.AuthUser(ctx, "bob", "pw bob")
	c.Close()
	if !ok || err != nil {
		t.Errorf("bob logs in on the copy: %v %v", ok, err)
	}

	out.Reset()
	err = dbCopy(ctx, []string{from, to}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("a copy into a used database: %v", err)
	}
	if err := dbCopy(ctx, []string{filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")}, &out, &errs); err == nil {
		t.Error("a copy from a missing file succeeded")
	}
}

func TestDBCopyCommandPostgres(t *testing.T) {
	dir := t.TempDir()
	from, back := filepath.Join(dir, "from.db"), filepath.Join(dir, "back.db")
	s, err := store.Open(from, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.RegisterUser(ctx, "ann", "pw ann"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	dsn := pgtest.NewDatabase(t)
	var out, errs bytes.Buffer
	for _, args := range [][]string{{from, dsn}, {dsn, back}} {
		out.Reset()
		if err := dbCopy(ctx, args, &out, &errs); err != nil {
			t.Fatalf("db copy %v: %v\n%s%s", args, err, out.String(), errs.String())
		}
		if !regexp.MustCompile(`(?m)^users +2 +2 *$`).MatchString(out.String()) {
			t.Errorf("db copy %v: report:\n%s", args, out.String())
		}
	}
	c, err := store.Open(back, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.AuthUser(ctx, "ann", "pw ann"); !ok || err != nil {
		t.Errorf("ann logs in after SQLite → PostgreSQL → SQLite: %v %v", ok, err)
	}
}
