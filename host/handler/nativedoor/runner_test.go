package nativedoor

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor/doortest"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
)

// testDoor is the test door's path.
func testDoor(t *testing.T) string { return doortest.Build(t) }

func caller(node int) dropfile.Caller {
	return dropfile.Caller{Name: "ann", RealName: "Ann Example", Level: 20, TimeLeft: 42 * time.Minute, ANSI: true, Node: node}
}

// reader collects a run's output on a goroutine of its own.
type reader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
	eof  chan struct{}
}

func readAll(r io.Reader) *reader {
	rd := &reader{more: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		defer close(rd.eof)
		b := make([]byte, 1024)
		for {
			n, err := r.Read(b)
			rd.mu.Lock()
			rd.buf.Write(b[:n])
			rd.mu.Unlock()
			select {
			case rd.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return rd
}

// waitFor waits until the output holds want.
func (rd *reader) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		rd.mu.Lock()
		got := rd.buf.String()
		rd.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-rd.more:
		case <-rd.eof:
			rd.mu.Lock()
			got := rd.buf.String()
			rd.mu.Unlock()
			if !strings.Contains(got, want) {
				t.Fatalf("door ended without %q; it wrote %q", want, got)
			}
			return
		case <-deadline:
			t.Fatalf("no %q in %q", want, got)
		}
	}
}

func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	if pids := Alive(pgid); len(pids) > 0 {
		t.Fatalf("process group %d still has %v", pgid, pids)
	}
}

// TestDoorReadsDropFiles: the door finds DOOR32.SYS and DOOR.SYS in its
// node folder, greets the caller by name with their time left, takes keys
// raw (unechoed, one at a time) and exits on Q; the folder goes with it.
func TestDoorReadsDropFiles(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "test", Command: []string{testDoor(t), "echo"},
		DropFiles: []dropfile.Kind{dropfile.Door32, dropfile.DoorSys}}, caller(2))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	out.waitFor(t, "DOOR32.SYS: Hello ann, 42 minutes left on node 2.")
	out.waitFor(t, "DOOR.SYS: Hello ann, 42 minutes left on node 2.")
	out.waitFor(t, "Q quits.")
	if _, err := os.Stat(filepath.Join(run.NodeDir(), "DOOR32.SYS")); err != nil || !strings.HasPrefix(filepath.Base(run.NodeDir()), "node2-") {
		t.Errorf("node folder: %v", err)
	}
	run.Write([]byte("x\r"))
	out.waitFor(t, `key '\r'`)
	run.Write([]byte("q"))
	out.waitFor(t, "Bye!")
	res := run.Wait()
	if res.Why != EndExited || res.ExitCode != 0 {
		t.Errorf("result %+v", res)
	}
	<-out.eof
	if strings.Contains(out.buf.String(), "x\r\n") || strings.Count(out.buf.String(), "key 'x'") != 1 {
		t.Errorf("keys echoed by the terminal: %q", out.buf.String())
	}
	if _, err := os.Stat(run.NodeDir()); !os.IsNotExist(err) {
		t.Errorf("node folder left behind: %v", err)
	}
	assertGroupGone(t, run.Pgid())
}

// TestSocketMode: a DOOR32 door in socket mode finds its caller on fd 3
// and DOOR32.SYS says comm type 2, handle 3.
func TestSocketMode(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "sock", Command: []string{testDoor(t), "socket"}, IO: Socket,
		DropFiles: []dropfile.Kind{dropfile.Door32}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(run.NodeDir(), "DOOR32.SYS"))
	if err != nil || !bytes.HasPrefix(b, []byte("2\r\n3\r\n")) {
		t.Fatalf("DOOR32.SYS = %q, %v", b, err)
	}
	out := readAll(run)
	out.waitFor(t, "Hello ann")
	run.Write([]byte("aQ"))
	out.waitFor(t, "Bye!")
	if res := run.Wait(); res.Why != EndExited {
		t.Errorf("result %+v", res)
	}
	assertGroupGone(t, run.Pgid())
}

// TestTimeLimitKillsGroup: a door that ignores SIGHUP and has a child is
// killed, child and all, when its time runs out.
func TestTimeLimitKillsGroup(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "hang", Command: []string{testDoor(t), "hang"}, TimeLimit: 500 * time.Millisecond}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	out.waitFor(t, "hanging, child")
	if n := len(Alive(run.Pgid())); n < 2 {
		t.Fatalf("group has %d processes, want the door and its child", n)
	}
	res := run.Wait()
	if res.Why != EndTime {
		t.Errorf("result %+v", res)
	}
	assertGroupGone(t, run.Pgid())
}

// TestHangUpKillsGroup: when the caller hangs up (the context ends), the
// door and its child are killed.
func TestHangUpKillsGroup(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	ctx, hangUp := context.WithCancel(context.Background())
	run, err := r.Start(ctx, Spec{Name: "hang", Command: []string{testDoor(t), "hang"}}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	out.waitFor(t, "hanging, child")
	hangUp()
	if res := run.Wait(); res.Why != EndHungUp {
		t.Errorf("result %+v", res)
	}
	assertGroupGone(t, run.Pgid())
	<-out.eof
}

// TestOutputRate: a door that writes without end is read no faster than
// its output rate.
func TestOutputRate(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	const rate = 16 << 10
	run, err := r.Start(context.Background(), Spec{Name: "flood", Command: []string{testDoor(t), "flood"}, OutputRate: rate}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	began := time.Now()
	n, _ := io.CopyN(io.Discard, run, 4*rate)
	took := time.Since(began)
	if n != 4*rate || took < 3*time.Second {
		t.Errorf("read %d bytes in %v: faster than %d bytes a second", n, took, rate)
	}
}

// TestMemoryLimit: a door over its memory limit fails instead of eating
// the host's memory.
func TestMemoryLimit(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "mem", Command: []string{testDoor(t), "mem"}, MemoryLimit: 256 << 20}, caller(1))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(run)
	res := run.Wait()
	<-out.eof
	if res.ExitCode == 0 || strings.Contains(out.buf.String(), "allocated") {
		t.Errorf("door allocated 4 GiB under a 256 MiB limit: %+v %q", res, out.buf.String())
	}
}

// TestEnvironment: the door's environment is built from scratch: the
// host's secrets are not in it; its node and drop file are.
func TestEnvironment(t *testing.T) {
	t.Setenv("M2BBS_SYSOP_TOKEN", "do-not-leak")
	r := &Runner{TempRoot: t.TempDir()}
	run, err := r.Start(context.Background(), Spec{Name: "env", Command: []string{testDoor(t), "env"},
		DropFiles: []dropfile.Kind{dropfile.DorInfo}}, caller(4))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(run)
	run.Wait()
	env := string(b)
	if strings.Contains(env, "do-not-leak") {
		t.Error("the host's environment reached the door")
	}
	sc := bufio.NewScanner(strings.NewReader(env))
	seen := map[string]bool{}
	for sc.Scan() {
		seen[strings.TrimSpace(sc.Text())] = true
	}
	if !seen["M2BBS_NODE=4"] || !seen["M2BBS_DROPFILE="+filepath.Join(run.NodeDir(), "DORINFO1.DEF")] {
		t.Errorf("environment %q", env)
	}
}

// TestCommandPlaceholders and bad specs.
func TestSpecCheck(t *testing.T) {
	bad := []Spec{
		{},
		{Command: []string{"x"}, IO: "serial"},
		{Command: []string{"x"}, DropFiles: []dropfile.Kind{"pcboard.sys"}},
		{Command: []string{"x"}, TimeLimit: -1},
		{Command: []string{"x"}, OutputRate: 10},
		{Command: []string{"x\x00"}},
		{Command: []string{strings.Repeat("x", MaxArgBytes+1)}},
	}
	for _, s := range bad {
		if s.Check() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	r := &Runner{TempRoot: t.TempDir()}
	if _, err := r.Start(context.Background(), Spec{Command: []string{"/nonexistent/door"}}, caller(1)); err == nil {
		t.Error("missing program started")
	}
}

// BenchmarkStart: what starting a door costs the worker that starts it
// (node folder, drop file, pty, fork and exec); the door, /bin/true, is
// waited for outside the timing.
func BenchmarkStart(b *testing.B) {
	r := &Runner{TempRoot: b.TempDir()}
	spec := Spec{Name: "true", Command: []string{"/bin/true"}, DropFiles: []dropfile.Kind{dropfile.Door32}}
	for range b.N {
		run, err := r.Start(context.Background(), spec, dropfile.Caller{Name: "ann", Node: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		io.Copy(io.Discard, run)
		run.Wait()
		b.StartTimer()
	}
}

// TestResize: the caller resizes their terminal; the door's follows and
// the door hears of it (SIGWINCH).
func TestResize(t *testing.T) {
	r := &Runner{TempRoot: t.TempDir()}
	c := caller(1)
	c.Width, c.Height = 100, 30
	run, err := r.Start(context.Background(), Spec{Name: "size", Command: []string{testDoor(t), "size"}}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	out := readAll(run)
	out.waitFor(t, "size 100x30")
	if err := run.Resize(132, 50); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, "size 132x50")
}
