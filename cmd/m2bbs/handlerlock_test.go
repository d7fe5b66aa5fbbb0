package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// TestHandlerLockIsExclusive: while one host holds a handler's lock, a
// second is refused with the holder's PID; once released, it is free.
func TestHandlerLockIsExclusive(t *testing.T) {
	spec := "tcp://127.0.0.1:1/" + t.Name() + strconv.FormatInt(time.Now().UnixNano(), 10)
	db := filepath.Join(t.TempDir(), "bbs.db")
	release, err := lockHandler(db, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockHandler(db, spec)
	if !errors.Is(err, ErrHandlerTaken) || !strings.Contains(err.Error(), "pid ") || !strings.Contains(err.Error(), spec) {
		t.Fatalf("second lock: %v, want ErrHandlerTaken naming the holder and the spec", err)
	}
	release()
	again, err := lockHandler(db, spec)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
	if _, err := lockHandler(db, "inproc://x"); err != nil {
		t.Fatalf("inproc needs no lock: %v", err)
	}
}

// TestHandlerLockIsNoTrap: the lock lies beside the database, readable by
// its owner only; a symbolic link planted at its name (to the database,
// say) is refused and its target left as it was.
func TestHandlerLockIsNoTrap(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bbs.db")
	const spec = "tcp://127.0.0.1:1"
	release, err := lockHandler(db, spec)
	if err != nil {
		t.Fatal(err)
	}
	path := handlerLockPath(db, spec)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no lock file beside the database: %v", err)
	}
	if filepath.Dir(path) != dir || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file %s mode %v, want beside the database, mode 0600", path, fi.Mode().Perm())
	}
	release()

	const precious = "the board's messages"
	if err := os.WriteFile(db, []byte(precious), 0o600); err != nil {
		t.Fatal(err)
	}
	other := "tcp://127.0.0.1:2"
	if err := os.Symlink(db, handlerLockPath(db, other)); err != nil {
		t.Fatal(err)
	}
	if release, err := lockHandler(db, other); err == nil {
		release()
		t.Fatal("a symbolic link at the lock's name was taken as the lock")
	}
	if got, _ := os.ReadFile(db); string(got) != precious {
		t.Fatalf("the link's target now holds %q", got)
	}
}

func TestRemoteSpec(t *testing.T) {
	for spec, want := range map[string]bool{
		"tcp://127.0.0.1:9902": false, "tcp://localhost:9902": false, "tcp://[::1]:9902": false,
		"ipc:///run/m2.sock": false, "inproc://bbs": false,
		"tcp://10.0.0.5:9902": true, "tcp://m2.example.org:9902": true, "tcp://[2001:db8::1]:9902": true,
	} {
		if got := remoteSpec(spec); got != want {
			t.Errorf("remoteSpec(%q) = %v, want %v", spec, got, want)
		}
	}
}

// twoHostsOnPostgres is a new PostgreSQL database and the settings of two
// hosts on it, each with a data folder of its own (other machines).
func twoHostsOnPostgres(t *testing.T) (dsn string, a, b *settings) {
	dsn = pgtest.NewDatabase(t)
	a = &settings{localDir: t.TempDir()}
	a.DBPath = dsn
	b = &settings{localDir: t.TempDir()}
	b.DBPath = dsn
	return dsn, a, b
}

// TestHandlerLockInPostgres: with the board on PostgreSQL a handler's lock
// is the database's, seen by hosts with different data folders (other
// machines): a second host is refused while the first holds it, another
// spec is free, and the lock is free again once released.
func TestHandlerLockInPostgres(t *testing.T) {
	dsn, a, b := twoHostsOnPostgres(t)
	ctx := t.Context()
	release, err := takeHandlerLock(ctx, a, "tcp://10.0.0.5:9902")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := takeHandlerLock(ctx, b, "tcp://10.0.0.5:9902"); !errors.Is(err, ErrHandlerTaken) {
		t.Errorf("a second host on the same handler: %v, want ErrHandlerTaken", err)
	} else if strings.Contains(err.Error(), dsn) {
		t.Errorf("the error shows the DSN: %v", err)
	}
	other, err := takeHandlerLock(ctx, b, "tcp://10.0.0.5:9904")
	if err != nil {
		t.Errorf("another handler: %v", err)
	} else {
		other()
	}
	release()
	again, err := takeHandlerLock(ctx, b, "tcp://10.0.0.5:9902")
	if err != nil {
		t.Fatalf("after the first host let go: %v", err)
	}
	again()
}

// TestHandlerLockInPostgresWaitsForAKilledHolder: a host that starts
// while the server still holds a killed host's lock (its connection not
// yet seen to end) waits for it and takes it once it goes, instead of
// saying the handler is taken.
func TestHandlerLockInPostgresWaitsForAKilledHolder(t *testing.T) {
	dsn, a, b := twoHostsOnPostgres(t)
	ctx := t.Context()
	release, err := takeHandlerLock(ctx, a, "tcp://10.0.0.5:9906")
	if err != nil {
		t.Fatal(err)
	}
	taken := make(chan error, 1)
	go func() {
		again, err := takeHandlerLock(ctx, b, "tcp://10.0.0.5:9906")
		if err == nil {
			again()
		}
		taken <- err
	}()
	// The second host is waiting on the server once its lock connection
	// shows a lock wait.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for waiting := 0; waiting == 0; {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'm2bbs handler lock' AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-taken:
			t.Fatalf("the second host did not wait: %v", err)
		default:
		}
	}
	release()
	if err := <-taken; err != nil {
		t.Fatalf("the second host, once the holder let go: %v", err)
	}
}
