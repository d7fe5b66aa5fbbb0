package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOpenReadOnly: a tool reads the journals of a board that is running
// (the store open for writing at the same time), lists them with their
// sizes, and cannot change anything: every write fails as a fault and the
// journals stay as they were.
func TestOpenReadOnly(t *testing.T) {
	live, path := newStore(t)
	ctx := context.Background()
	if err := live.ResetJournal(ctx, "12", -1, [][]byte{[]byte("start"), []byte("call")}); err != nil {
		t.Fatal(err)
	}
	if err := live.AppendJournal(ctx, "12", 2, [][]byte{[]byte("request")}); err != nil {
		t.Fatal(err)
	}
	if err := live.ResetJournal(ctx, "3", -1, [][]byte{[]byte("x")}); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	list, err := ro.ListJournals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ConnID != "3" || list[1].ConnID != "12" || list[1].Bytes <= list[0].Bytes || list[1].Written.IsZero() {
		t.Fatalf("journals listed: %+v", list)
	}
	got, _, err := ro.LoadJournal(ctx, "12")
	if want := [][]byte{[]byte("start"), []byte("call"), []byte("request")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("journal 12 read read-only: %q, %v", got, err)
	}
	for name, write := range map[string]func() error{
		"append": func() error { return ro.AppendJournal(ctx, "12", 3, [][]byte{[]byte("more")}) },
		"drop":   func() error { return ro.DropJournal(ctx, "12") },
		"user":   func() error { return ro.RegisterUser(ctx, "ann", "secret passphrase") },
	} {
		if err := write(); !errors.Is(err, ErrFault) {
			t.Errorf("%s on the read-only store: %v, want a fault", name, err)
		}
	}
	if err := ro.Reconnect(ctx); err != nil {
		t.Fatalf("reconnect read-only: %v", err)
	}
	if err := ro.DropJournal(ctx, "3"); !errors.Is(err, ErrFault) {
		t.Errorf("drop after a reconnect: %v, want a fault", err)
	}
	if got, _, err := live.LoadJournal(ctx, "12"); err != nil || len(got) != 3 {
		t.Errorf("the board's journal after the read-only tool: %q, %v", got, err)
	}
}

// TestOpenReadOnlyRefuses: no file, a file of another schema version.
func TestOpenReadOnlyRefuses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	if _, err := OpenReadOnly(missing, Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing database: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s", missing)
	}
	_, path := newStore(t)
	db := rawDB(t, path)
	if _, err := db.Exec("PRAGMA user_version = 3"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(path, Options{}); !errors.Is(err, ErrSchemaTooOld) {
		t.Errorf("older schema: %v", err)
	}
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(path, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("newer schema: %v", err)
	}
}

// TestOpenReadOnlyStoppedBoard: the board stopped (its WAL files gone with
// its last connection); the tool still reads.
func TestOpenReadOnlyStoppedBoard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ResetJournal(context.Background(), "5", -1, [][]byte{[]byte("start")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, _, err := ro.LoadJournal(context.Background(), "5"); err != nil || len(got) != 1 {
		t.Errorf("journal of a stopped board: %q, %v", got, err)
	}
}
