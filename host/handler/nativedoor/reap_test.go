package nativedoor

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// living reports whether pid runs (a zombie does not).
func living(pid int) bool {
	f := statFields(strconv.Itoa(pid))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// waitFile waits for path to hold a line and returns it.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("nothing in %s", path)
	return ""
}

// TestMaxRunning: past MaxRunning doors at once, a caller's door is
// refused at once (ErrBusy) instead of forking one more process group; a
// door that ends makes room.
func TestMaxRunning(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir(), MaxRunning: 2}
	hang := Spec{Name: "hang", Command: []string{"sleep", "1000"}}
	var runs []*Run
	for node := 1; node <= 2; node++ {
		run, err := r.Start(context.Background(), hang, caller(node))
		if err != nil {
			t.Fatal(err)
		}
		defer run.Close()
		runs = append(runs, run)
	}
	if _, err := r.Start(context.Background(), hang, caller(3)); !errors.Is(err, ErrBusy) {
		t.Fatalf("third door: %v, want ErrBusy", err)
	}
	runs[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for r.Running() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	run, err := r.Start(context.Background(), hang, caller(3))
	if err != nil {
		t.Fatalf("a door ended, yet: %v", err)
	}
	run.Close()
}

// TestSetsidChildKilled: a door's child that leaves the door's process
// group (setsid) and ignores SIGHUP is killed with the door all the same.
func TestSetsidChildKilled(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := `setsid sh -c 'trap "" HUP; echo $$ > ` + pidFile + `; exec sleep 1000' & echo started; sleep 1000`
	run, err := r.Start(context.Background(), Spec{Name: "escape", Command: []string{"sh", "-c", script}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	out.waitFor(t, "started")
	pid, _ := strconv.Atoi(waitFile(t, pidFile))
	if pid == 0 || !living(pid) {
		t.Fatalf("escaped child %d not running", pid)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	run.Close()
	assertGroupGone(t, run.Pgid())
	if living(pid) {
		t.Errorf("the door's setsid child %d outlived it", pid)
	}
}

// TestReapAfterHostKilled: a host killed with SIGKILL never ended its
// doors; one that ignores SIGHUP still runs, in the dead host's folder.
// The next runner on the same TempRoot kills it and removes the folder,
// and leaves the doors of a host still running alone.
func TestReapAfterHostKilled(t *testing.T) {
	root := t.TempDir()
	dead := filepath.Join(root, runFolder(1<<22-1, "1")) // no such process
	nodeDir := filepath.Join(dead, "node1-x")
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command("sh", "-c", `trap "" HUP; exec sleep 1000`)
	orphan.Env = []string{"PATH=/usr/bin:/bin", nodeDirVar + nodeDir}
	orphan.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := make(chan struct{})
	go func() { orphan.Wait(); close(reaped) }()
	t.Cleanup(func() { orphan.Process.Kill() })

	alive := &Runner{TempRoot: root}
	run, err := alive.Start(context.Background(), Spec{Name: "live", Command: []string{"sleep", "1000"}}, caller(2))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()

	next := &Runner{TempRoot: root}
	n, err := next.Reap()
	if err != nil || n != 1 {
		t.Errorf("Reap: %d killed, %v; want the orphan", n, err)
	}
	select {
	case <-reaped:
	case <-time.After(5 * time.Second):
		t.Fatal("the dead host's door still runs")
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead host's folder is still there: %v", err)
	}
	if len(Alive(run.Pgid())) == 0 {
		t.Error("Reap killed the door of a host still running")
	}
	if _, err := os.Stat(run.NodeDir()); err != nil {
		t.Errorf("Reap removed a running host's folder: %v", err)
	}
}

// TestHostFdsNotInherited: a descriptor the host opened without
// close-on-exec (as a C library may: ZeroMQ's sockets, SQLite's
// database) does not reach the door.
func TestHostFdsNotInherited(t *testing.T) {
	fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	r := &Runner{TempRoot: t.TempDir()}
	script := `if [ -e /proc/$$/fd/` + strconv.Itoa(fd) + ` ]; then echo leaked; else echo clean; fi`
	run, err := r.Start(context.Background(), Spec{Name: "fds", Command: []string{"sh", "-c", script}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	run.Wait()
	<-out.eof
	if got := out.buf.String(); !strings.Contains(got, "clean") {
		t.Errorf("door saw the host's descriptor %d: %q", fd, got)
	}
}

// TestTempRootChecked: the doors' folder is the host user's alone: one
// that others may enter is made 0700, a symbolic link is refused.
func TestTempRootChecked(t *testing.T) {
	open := filepath.Join(t.TempDir(), "doors")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	r := &Runner{TempRoot: open}
	run, err := r.Start(context.Background(), Spec{Name: "ok", Command: []string{"true"}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	run.Wait()
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o700 {
		t.Errorf("doors folder mode %v, want 0700", fi.Mode().Perm())
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Runner{TempRoot: link}).Start(context.Background(), Spec{Name: "no", Command: []string{"true"}}, caller(1)); err == nil {
		t.Error("a doors folder that is a symbolic link was used")
	}
}

// TestByteAtATimeOutputIsGathered: a door writing one byte at a time,
// many times a second (unbuffered output), reaches the caller in pieces
// at most every PieceEvery (each piece costs the caller's worker a turn),
// not a piece a byte.
func TestByteAtATimeOutputIsGathered(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "drip", Command: []string{"sh", "-c", "while :; do printf x; sleep 0.0001; done"}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	const window = time.Second
	pieces, bytes := 0, 0
	buf := make([]byte, ReadChunk)
	for began := time.Now(); time.Since(began) < window; pieces++ {
		n, err := run.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		bytes += n
	}
	t.Logf("%d pieces, %d bytes", pieces, bytes)
	if most := int(window/PieceEvery) + 2; pieces > most {
		t.Errorf("%d pieces (%d bytes) in %v: more than %d", pieces, bytes, window, most)
	}
	if bytes < pieces*2 {
		t.Errorf("%d bytes in %d pieces: the output was not gathered", bytes, pieces)
	}
}

// BenchmarkKillMarkedScan: what a door's end pays (on its own goroutine)
// to look for processes that left its group: one pass over /proc.
func BenchmarkKillMarkedScan(b *testing.B) {
	for range b.N {
		killMarked(func(string) bool { return false })
	}
}
