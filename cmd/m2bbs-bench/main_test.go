package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary act as the m2bbs-bench command, so the
// tests start the echo floor as a real process without a separate build.
const runMainEnv = "M2BBS_BENCH_TEST_RUN_MAIN"

// readTimeout bounds each wait for a message from the floor.
const readTimeout = 10 * time.Second

// binDir holds the m2bbs binary the tests build; removed by TestMain.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	var err error
	if binDir, err = os.MkdirTemp("", "m2bbs-bench-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

var (
	buildOnce  sync.Once
	boardPath  string
	boardBuild error
)

// boardBinary is the m2bbs binary, built once per test run with the build
// tags of this test binary (e.g. libsqlite3).
func boardBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		out := filepath.Join(binDir, "m2bbs")
		args := []string{"build", "-o", out}
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "-tags" && s.Value != "" {
					args = append(args, "-tags", s.Value)
				}
			}
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			boardBuild = err
			return
		}
		msgs, err := exec.Command(goCmd, append(args, "github.com/m2bbs/m2bbs/cmd/m2bbs")...).CombinedOutput()
		if err != nil {
			boardBuild = errors.Join(err, errors.New(string(msgs)))
			return
		}
		boardPath = out
	})
	if boardBuild != nil {
		t.Fatalf("build m2bbs: %v", boardBuild)
	}
	return boardPath
}

// testOptions are the bench's options for a test: m2bbs built by
// boardBinary, this test binary as the echo floor, env added to every
// process's environment.
func testOptions(t *testing.T, o *benchOptions, env ...string) {
	t.Helper()
	o.board = boardBinary(t)
	o.exe = os.Args[0]
	o.env = append(append(os.Environ(), runMainEnv+"=1"), env...)
}

// logWatcher collects a process's log lines and lets a test wait for one.
type logWatcher struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every new line
	done    chan struct{} // closed at EOF
}

func watchLog(r io.Reader) *logWatcher {
	w := &logWatcher{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

// waitFor returns the first log line containing every one of parts,
// waiting for it up to timeout.
func (w *logWatcher) waitFor(t *testing.T, timeout time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for _, line := range w.lines {
			if containsAll(line, parts) {
				w.mu.Unlock()
				return line
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-w.done:
			t.Fatalf("process exited before logging %q:\n%s", parts, w.String())
		case <-deadline:
			t.Fatalf("no log line with %q after %v:\n%s", parts, timeout, w.String())
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// startProcess starts exe with args as a process of its own (env added to
// its environment), stopped with SIGTERM when the test ends.
func startProcess(t *testing.T, exe string, env []string, args ...string) *logWatcher {
	t.Helper()
	name := filepath.Base(exe) + " " + args[0]
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := watchLog(stderr)
	exited := make(chan error, 1)
	go func() {
		<-logs.done
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v:\n%s", name, err, logs)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s ignored SIGTERM for 10s:\n%s", name, logs)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	return logs
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestCommands: m2bbs-bench has the bench and echo subcommands, and
// answers an unknown one with its usage.
func TestCommands(t *testing.T) {
	var usage bytes.Buffer
	if err := runCommand(t.Context(), []string{"help"}, &usage); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bench", "echo"} {
		if !strings.Contains(usage.String(), "  "+name+" ") {
			t.Errorf("usage lacks %q:\n%s", name, &usage)
		}
	}
	if err := runCommand(t.Context(), []string{"run"}, io.Discard); err == nil || !strings.Contains(err.Error(), `unknown command "run"`) {
		t.Errorf("run: %v, want unknown command", err)
	}
}

// TestFindBoard: the bench starts the m2bbs beside itself, as make build
// leaves both in bin/.
func TestFindBoard(t *testing.T) {
	dir := t.TempDir()
	self, board := filepath.Join(dir, "m2bbs-bench"), filepath.Join(dir, "m2bbs")
	if err := os.WriteFile(board, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findBoard(self); err != nil || got != board {
		t.Errorf("findBoard = %q, %v; want %q", got, err, board)
	}
	t.Setenv("PATH", t.TempDir())
	if got, err := findBoard(filepath.Join(t.TempDir(), "m2bbs-bench")); err == nil || !strings.Contains(err.Error(), "-m2bbs") {
		t.Errorf("with no m2bbs anywhere: %q, %v", got, err)
	}
}
