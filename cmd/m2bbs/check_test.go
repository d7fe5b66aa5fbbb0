package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/luaapi"
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
		"scripts/bbs.lua":    "function m2bbs(conn, req)\n    ui.exit(conn, req, 'gone')\nend\nrequire 'ui'\n",
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

// writeCheckFiles writes name → text under dir.
func writeCheckFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckExitStatus: problems fail the command (status 2), warnings
// alone do not (status 0); both are printed.
func TestCheckExitStatus(t *testing.T) {
	const warning = "scripts/chat.lua:3: warning: writes into 'members', a table at the top level of this script, " +
		"while a caller runs: each worker's Lua state has its own copy, so callers on other workers do not see the change " +
		"(keep live shared state in the shared module, or run with -workers 1)"
	chat := "local M = {}\nlocal members = {}\nfunction M.join(conn) members[#members + 1] = conn end\nreturn M\n"
	tests := []struct {
		name string
		bbs  string
		code int
		want []string
	}{
		{
			name: "a warning",
			bbs:  "require 'ui'\nlocal chat = require 'chat'\nfunction m2bbs(conn, req) chat.join(conn) ui.exit(conn, req, 'bye') end\n",
			want: []string{warning, "checked 2 scripts and 1 screen: ok, 1 warning"},
		},
		{
			name: "a warning and a problem",
			bbs:  "local chat = require 'chat'\nfunction m2bbs(conn, req) chat.join(conn) ui.exit(conn, req, 'bye') end\n",
			code: 2,
			want: []string{
				"scripts/bbs.lua:2: undefined global 'ui' (add require 'ui' to this script)",
				warning,
				"checked 2 scripts and 1 screen: 1 problem, 1 warning",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCheckFiles(t, dir, map[string]string{"scripts/bbs.lua": tt.bbs, "scripts/chat.lua": chat, "screens/bye.txt": "Bye!\n"})
			out, code := runCheckProcess(t, dir)
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			if want := strings.Join(tt.want, "\n") + "\n"; out != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

// TestCheckCommandOnOriginalBoard runs "m2bbs check" where the 2010 board's files
// were copied unchanged (from mongrel2-core's examples, at test time): it
// fails only while the host has no mongrel2 module, and says so.
func TestCheckCommandOnOriginalBoard(t *testing.T) {
	const examples = "/usr/share/doc/mongrel2-core/examples/bbs"
	gz, err := os.ReadFile(filepath.Join(examples, "bbs.lua.gz"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("the 2010 board is not installed here (apt-get install mongrel2-core)")
	}
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	bbs, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{"scripts/bbs.lua": string(bbs)}
	for _, name := range []string{"ui.lua", "strict.lua", "engine.lua", "config.lua"} {
		text, err := os.ReadFile(filepath.Join(examples, name))
		if err != nil {
			t.Fatal(err)
		}
		files["scripts/"+name] = string(text)
	}
	writeCheckFiles(t, dir, files)
	if err := os.Mkdir(filepath.Join(dir, "screens"), 0o755); err != nil {
		t.Fatal(err)
	}
	want, wantCode := "checked 5 scripts and 0 screens: ok\n", 0
	if !slices.Contains(luaapi.BuiltinModuleNames(), "mongrel2") {
		want = "scripts/bbs.lua:2: require 'mongrel2': no such module in scripts/ or the host\n" +
			"checked 5 scripts and 0 screens: 1 problem\n"
		wantCode = 2
	}
	out, code := runCheckProcess(t, dir)
	if code != wantCode || out != want {
		t.Errorf("exit status %d, stdout:\n%s\nwant %d and:\n%s", code, out, wantCode, want)
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
