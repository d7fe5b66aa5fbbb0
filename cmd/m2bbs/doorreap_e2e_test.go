package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
)

// TestADoorLeftByAKilledHostIsReaped: behind real Mongrel2, a caller is in
// a door that ignores SIGHUP when the host is killed with SIGKILL: the
// kernel's hang-up does not end it, and nobody else would. The host
// started again on the line kills it before serving, and removes its
// folder. While it ran, the door held none of the host's files: not the
// database, not a socket.
func TestADoorLeftByAKilledHostIsReaped(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	scripts := nativeDoorsScripts(t)
	line := startLine(t, server, db, 1, "-scripts", scripts)
	c := atTheDoors(t, server, "rex")
	if err := c.Send("4"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "hanging, child")
	pgid := doorStarted(t, line.logs, "rex", "Never Ends")
	t.Cleanup(func() {
		for _, pid := range nativedoor.Alive(pgid) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
		}
	})
	for _, pid := range nativedoor.Alive(pgid) {
		fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
		for _, fd := range fds {
			target, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
			if strings.Contains(target, "bbs.db") || strings.HasPrefix(target, "socket:") {
				t.Errorf("door process %d holds the host's %s as fd %s", pid, target, fd.Name())
			}
		}
	}
	line.kill9(t)
	time.Sleep(500 * time.Millisecond) // the kernel's hang-up, which the door ignores
	if len(nativedoor.Alive(pgid)) == 0 {
		t.Fatal("the door died with its host: nothing to reap (the test door should ignore SIGHUP)")
	}
	line = startLine(t, server, db, 1, "-scripts", scripts)
	line.logs.WaitFor(t, readTimeout, "doors of a host gone killed")
	waitGroupGone(t, pgid, 5*time.Second, "after the next host started")
	runs, _ := filepath.Glob(filepath.Join(filepath.Dir(db), "doors", "line1", "run-*"))
	if len(runs) != 0 {
		t.Errorf("the killed host's doors folder is left: %v", runs)
	}
}
