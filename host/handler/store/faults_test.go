package store

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fillDisk makes the database full, as a full disk would: SQLite's
// max_page_count on the store's one writer connection, set to the pages in
// use (0 lifts the limit again).
func fillDisk(t *testing.T, s *SQLite, full bool) {
	t.Helper()
	ctx := context.Background()
	var pages int64 = 1 << 30
	if full {
		if err := s.pools.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pools.w.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.FormatInt(pages, 10)); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFullIsAFault: SQLITE_FULL comes back as ErrFull (and ErrFault),
// nothing is stored, and the store works again once there is room.
func TestDiskFullIsAFault(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann")
	fillDisk(t, s, true)
	big := []string{strings.Repeat("x", 60<<10)}
	_, err := s.PostMessage(ctx, "ann", big)
	if !errors.Is(err, ErrFull) || !errors.Is(err, ErrFault) {
		t.Fatalf("post on a full disk: err = %v, want ErrFull", err)
	}
	if n, err := s.MessageCount(ctx); err != nil || n != 0 {
		t.Errorf("message count = %d, %v after a failed post", n, err)
	}
	if _, err := s.PostMessage(ctx, "nobody", []string{"hi"}); errors.Is(err, ErrFault) || !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("an expected failure is reported as %v", err)
	}
	fillDisk(t, s, false)
	if _, err := s.PostMessage(ctx, "ann", big); err != nil {
		t.Fatalf("post once there is room: %v", err)
	}
}

func TestSyncSetting(t *testing.T) {
	for _, tc := range []struct {
		sync string
		want int
	}{{"", 1}, {"normal", 1}, {"full", 2}, {"FULL", 2}} {
		s, err := Open(filepath.Join(t.TempDir(), "bbs.db"), Options{BcryptCost: testOptions.BcryptCost, Sync: tc.sync})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := s.pools.w.QueryRow("PRAGMA synchronous").Scan(&got); err != nil || got != tc.want {
			t.Errorf("sync %q: synchronous = %d, %v; want %d", tc.sync, got, err, tc.want)
		}
		s.Close()
	}
	if _, err := Open(filepath.Join(t.TempDir(), "bbs.db"), Options{Sync: "off"}); err == nil {
		t.Error("sync off was accepted")
	}
}
