package ftn

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

// awaitState polls sv's state until ok holds, at most 30 s.
func awaitState(t *testing.T, sv *Supervisor, what string, ok func(BinkdState) bool) BinkdState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := sv.State()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("binkd never %s: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSupervisor: a binkd left running by a board that died is stopped;
// the supervised one is started, started again when it is killed, and
// stopped with its process group when the board stops.
func TestSupervisor(t *testing.T) {
	if _, err := exec.LookPath("binkd"); err != nil {
		t.Fatalf("binkd is not installed (make deps installs it): %v", err)
	}
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	set, err := ParseSettings(map[string]any{"address": "21:1/100", "binkd_port": float64(port), "dir": dir,
		"uplinks": []any{map[string]any{"address": "21:1/101", "host": "127.0.0.1", "port": float64(port + 1)}}}, "bbs.db")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := set.WriteBinkdConfig()
	if err != nil {
		t.Fatal(err)
	}
	// The stale binkd of a board that was killed.
	stale := exec.Command("binkd", "-q", conf)
	stale.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := stale.Start(); err != nil {
		t.Fatal(err)
	}
	staleDone := make(chan error, 1)
	go func() { staleDone <- stale.Wait() }()
	t.Cleanup(func() { syscall.Kill(-stale.Process.Pid, syscall.SIGKILL) })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "binkd.pid")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale binkd wrote no pid file")
		}
	}

	sv := &Supervisor{Settings: &set, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- sv.Run(ctx) }()
	stopped := false
	defer func() {
		cancel()
		if !stopped {
			<-runDone
		}
	}()
	select {
	case <-staleDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the stale binkd was not stopped")
	}
	first := awaitState(t, sv, "started", func(st BinkdState) bool { return st.Running })
	// Another process (a phone line, the sysop's commands) sees it from
	// its pid file.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if seen := BinkdFromPIDFile(&set); seen.Running && seen.PID == first.PID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pid file never named the running binkd %d: %+v", first.PID, BinkdFromPIDFile(&set))
		}
	}
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := awaitState(t, sv, "restarted", func(st BinkdState) bool {
		return st.Running && st.PID != first.PID && st.Restarts == 1
	})
	cancel()
	stopped = true
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(second.PID, 0) == nil {
		t.Errorf("binkd %d still runs after the board stopped", second.PID)
	}
	if st := sv.State(); st.Running || st.LastExit == "" {
		t.Errorf("state after stop: %+v", st)
	}
	if seen := BinkdFromPIDFile(&set); seen.Running {
		t.Errorf("the pid file names a running binkd after the stop: %+v", seen)
	}
	// Nothing of binkd's process groups is left: not the first one's
	// client manager (killed outright, binkd cannot stop it), not the
	// last one's.
	for _, pgid := range []int{first.PID, second.PID} {
		if live := liveInGroup(t, pgid); len(live) > 0 {
			t.Errorf("binkd's process group %d still has processes %v", pgid, live)
		}
	}
}

// liveInGroup lists the processes of group pgid that run (zombies, which
// a container's init may never reap, are not counted), from /proc.
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			live = append(live, path)
		}
	}
	return live
}
