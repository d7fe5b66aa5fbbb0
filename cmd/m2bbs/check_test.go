package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCheckProcess runs "m2bbs check ARGS" as a process of its own in dir
// and returns its stdout and exit code.
func runCheckProcess(t *testing.T, dir string, args ...string) (stdout string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, append([]string{"check"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("m2bbs check: %v\nstderr: %s", err, errOut.String())
	}
	t.Logf("m2bbs check %s\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), out.String(), errOut.String())
	return out.String(), code
}

func TestCheckShippedBoard(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// Run where the board lives, with the default settings, as a deploy
	// would.
	out, code := runCheckProcess(t, root)
	if code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	if !regexp.MustCompile(`^checked [1-9][0-9]* scripts? and [1-9][0-9]* screens?: ok\n$`).MatchString(out) {
		t.Errorf("stdout = %q, want only the summary: some scripts and screens, ok", out)
	}
}

func TestCheckReportsProblems(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"scripts/bbs.lua":    "function m2bbs(conn, req)\n    ui.exit(conn, req, 'gone')\nend\n",
		"scripts/broken.lua": "local x = 1\nif x then\n    print(x)\nelse if\n",
		"screens/bye.txt":    "Bye!\n",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := runCheckProcess(t, dir)
	if code == 0 {
		t.Fatal("exit status 0, want failure")
	}
	want := strings.Join([]string{
		`scripts/bbs.lua:2: screen "gone" not found (screens/gone.txt)`,
		`scripts/broken.lua:4: syntax error at the end of the file`,
		`checked 2 scripts and 1 screen: 2 problems`,
	}, "\n") + "\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestCheckFlags(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "screens"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "lua"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lua", "board.lua"), []byte("return function(conn) end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"-scripts", filepath.Join(dir, "lua"), "-screens", filepath.Join(dir, "screens"), "-main", "board.lua"}
	if err := check(args, &out, &errOut); err != nil {
		t.Fatalf("check: %v\n%s", err, errOut.String())
	}
	if got, want := out.String(), "checked 1 script and 0 screens: ok\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}

	out.Reset()
	args[len(args)-1] = "nope.lua"
	if err := check(args, &out, &errOut); err == nil || !strings.Contains(out.String(), "nope.lua: main script not found") {
		t.Errorf("check with a missing main script: err = %v, stdout = %q", err, out.String())
	}
	if err := check(append(args, "extra"), &out, &errOut); err == nil {
		t.Error("check accepted a stray argument")
	}
}
