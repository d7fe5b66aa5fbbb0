package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
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
	code := pgtest.Run(m) // stops the PostgreSQL of the tests that start one
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
		if boardBuild = proctest.Build("github.com/m2bbs/m2bbs/cmd/m2bbs", out); boardBuild == nil {
			boardPath = out
		}
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

// startProcess starts exe with args as a process of its own (env added to
// its environment), stopped with SIGTERM when the test ends.
func startProcess(t *testing.T, exe string, env []string, args ...string) *proctest.Log {
	t.Helper()
	name := filepath.Base(exe) + " " + args[0]
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), env...)
	return proctest.Start(t, name, cmd)
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
