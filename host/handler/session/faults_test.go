package session

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// fullDisk is the SQLite store on a disk that fills up: while full is set,
// posting, mailing and recording a call fail as SQLite's SQLITE_FULL does
// (store.ErrFull; the store's own test checks the real thing maps to it).
type fullDisk struct {
	*store.SQLite
	full atomic.Bool
}

func (d *fullDisk) fault(op string) error {
	return fmt.Errorf("store: %s: %w: %w: database or disk is full", op, store.ErrFault, store.ErrFull)
}

func (d *fullDisk) PostMessage(ctx context.Context, author string, lines []string) (store.Message, error) {
	if d.full.Load() {
		return store.Message{}, d.fault("post message")
	}
	return d.SQLite.PostMessage(ctx, author, lines)
}

func (d *fullDisk) RecordCall(ctx context.Context, name string) error {
	if d.full.Load() {
		return d.fault("record call")
	}
	return d.SQLite.RecordCall(ctx, name)
}

// fullDiskBoard runs the shipped bbs.lua over a fullDisk store.
func fullDiskBoard(t *testing.T, logs *strings.Builder) (*Table, *recorder, *fullDisk) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	disk := &fullDisk{SQLite: db}
	rec := &recorder{}
	tbl, err := New(Config{ScriptsDir: "../../../scripts", MainScript: "../../../scripts/bbs.lua", RatePerSecond: 1e6, RateBurst: 1 << 20}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   disk,
		Log:     slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec, disk
}

// TestDiskFullPosterIsToldAndStaysOnline: a post the disk has no room for
// is answered "not saved" and the caller goes back to the menu; the fault
// is logged and counted.
func TestDiskFullPosterIsToldAndStaysOnline(t *testing.T) {
	var logs strings.Builder
	tbl, rec, disk := fullDiskBoard(t, &logs)
	converse(tbl, rec, "1", "connect", "zed", "long-password-1", "long-password-1", "y")
	disk.full.Store(true)
	got := strings.Join(converse(tbl, rec, "1", "1", "hello", "."), "\n")
	if !strings.Contains(got, "Your message was not saved: the board's disk is full.") {
		t.Errorf("the poster saw:\n%s", got)
	}
	if !strings.Contains(got, "MAIN MENU") || !tbl.Has("1") {
		t.Errorf("the poster is not back at the menu:\n%s", got)
	}
	if st := tbl.Stats(); st.StoreErrors != 1 || st.Errored != 0 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "store fault") || !strings.Contains(logs.String(), "conn_id=1") {
		t.Errorf("the fault was not logged with the caller's conn_id:\n%s", logs.String())
	}
}

// TestLoginSurvivesACallThatCannotBeRecorded: recording the call (last
// callers) fails on a full disk; the caller is logged in all the same.
func TestLoginSurvivesACallThatCannotBeRecorded(t *testing.T) {
	var logs strings.Builder
	tbl, rec, disk := fullDiskBoard(t, &logs)
	converse(tbl, rec, "1", "connect", "zed", "long-password-1", "long-password-1", "y", "G")
	disk.full.Store(true)
	got := strings.Join(converse(tbl, rec, "2", "connect", "zed", "long-password-1", ""), "\n")
	if !strings.Contains(got, "MAIN MENU") || !tbl.Has("2") {
		t.Errorf("the caller did not reach the menu:\n%s", got)
	}
	if st := tbl.Stats(); st.StoreErrors != 1 || st.Errored != 0 {
		t.Errorf("stats = %+v", st)
	}
}
