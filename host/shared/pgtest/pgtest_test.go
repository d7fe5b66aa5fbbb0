package pgtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestDatabasesAreFreshAndSeparate: each test database starts empty, and
// what one holds the other does not see.
func TestDatabasesAreFreshAndSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("two databases share the DSN %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database b sees a's table")
	}
}

// TestStopEndsTheServerAndRemovesItsFolder: after Stop the PID is gone,
// the port refuses connections and the temporary folder is removed.
func TestStopEndsTheServerAndRemovesItsFolder(t *testing.T) {
	srv, err := Start(context.Background())
	if errors.Is(err, ErrNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, dir := srv.cmd.Process.Pid, srv.dir
	conn, err := pgx.Connect(context.Background(), srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still there after Stop: %v", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("folder %s left behind: %v", dir, err)
	}
	if _, err := pgx.Connect(context.Background(), srv.DSN("postgres")); err == nil {
		t.Errorf("the port still answers after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestStartReapsAServerWhoseOwnerDied: a server left by a test binary
// that died without Stop is stopped and its folder removed by the next
// Start.
func TestStartReapsAServerWhoseOwnerDied(t *testing.T) {
	orphan, err := Start(context.Background())
	if errors.Is(err, ErrNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer orphan.Stop()
	// A process that has exited stands for the dead owner.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan.dir, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	next, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Stop()
	select {
	case <-orphan.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the orphaned server is still running")
	}
	if _, err := os.Stat(orphan.dir); !os.IsNotExist(err) {
		t.Errorf("orphan's folder %s left behind: %v", orphan.dir, err)
	}
}

// TestNewDatabaseFromATemplate: the template is made once, and each copy
// starts with what setup put there, apart from the others.
func TestNewDatabaseFromATemplate(t *testing.T) {
	ctx := context.Background()
	setups := 0
	setup := func(dsn string) error {
		setups++
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE greeting (text text); INSERT INTO greeting VALUES ('hi')")
		return err
	}
	a := NewDatabaseFrom(t, "tmpl_greeting", setup)
	b := NewDatabaseFrom(t, "tmpl_greeting", setup)
	if setups != 1 {
		t.Errorf("setup ran %d times; want 1", setups)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "UPDATE greeting SET text = 'changed'"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var text string
	if err := cb.QueryRow(ctx, "SELECT text FROM greeting").Scan(&text); err != nil || text != "hi" {
		t.Errorf("copy b holds %q, %v; want the template's \"hi\"", text, err)
	}
}
