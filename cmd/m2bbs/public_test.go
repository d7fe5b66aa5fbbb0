package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// m2bbsIn runs the m2bbs command in dir with the environment variable
// M2BBS_SYSOP_TOKEN set to token ("" unset), and returns its exit code
// and stderr; it is stopped after timeout.
func m2bbsIn(t *testing.T, dir, token string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "M2BBS_SYSOP_TOKEN=") {
			env = append(env, kv)
		}
	}
	if token != "" {
		env = append(env, "M2BBS_SYSOP_TOKEN="+token)
	}
	cmd.Env = append(env, runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("m2bbs %s did not exit within %v:\n%s", args[0], timeout, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String()
}

// TestListenAllNeedsASysopToken: a board open to the network without a
// sysop token (or with a guessable one) does not start, and says why.
func TestListenAllNeedsASysopToken(t *testing.T) {
	dir := t.TempDir() // no config.lua
	for _, tc := range []struct {
		name, token string
		args        []string
	}{
		{"run without a token", "", []string{"run", "-listen-all", "-port", "0", "-web-port", "-1", "-telnet-port", "-1", "-data", dir}},
		{"run with a short token", "", []string{"run", "-listen-all", "-sysop-token", "letmein", "-port", "0", "-data", dir}},
		{"run -mongrel2 without a token", "", []string{"run", "-mongrel2", "-listen-all", "-port", "0", "-data", dir}},
		{"m2conf without a token", "", []string{"m2conf", "-listen-all"}},
		{"run with a short token from the environment", "letmein", []string{"run", "-listen-all", "-port", "0", "-data", dir}},
	} {
		code, stderr := m2bbsIn(t, dir, tc.token, 30*time.Second, append(tc.args, "-db", filepath.Join(dir, "bbs.db"))...)
		if code == 0 {
			t.Errorf("%s: exit status 0, want failure:\n%s", tc.name, stderr)
			continue
		}
		for _, want := range []string{"-listen-all", "sysop token", "M2BBS_SYSOP_TOKEN"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: the message does not say %q:\n%s", tc.name, want, stderr)
			}
		}
		if strings.Contains(stderr, "listening") || strings.Contains(stderr, "ready") {
			t.Errorf("%s: the board started:\n%s", tc.name, stderr)
		}
		if strings.Contains(stderr, "letmein") {
			t.Errorf("%s: the token is in the output:\n%s", tc.name, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bbs.db")); err == nil {
		t.Error("a refused board created its database")
	}
}

// TestM2confListenAllNamesWSOrigins: a public Mongrel2 configuration
// says that browsers reaching m2bbs host by a name need it listed.
func TestM2confListenAllNamesWSOrigins(t *testing.T) {
	code, stderr := m2bbsIn(t, t.TempDir(), "m2conf-0123456789-abcdef", 30*time.Second, "m2conf", "-listen-all")
	if code != 0 || !strings.Contains(stderr, "ws_origins") {
		t.Errorf("m2conf -listen-all: exit %d\n%s", code, stderr)
	}
	code, stderr = m2bbsIn(t, t.TempDir(), "m2conf-0123456789-abcdef", 30*time.Second, "m2conf", "-listen-all", "-ws-origins", "bbs.example.org:6767")
	if code != 0 || strings.Contains(stderr, "ws_origins") {
		t.Errorf("m2conf -listen-all -ws-origins: exit %d\n%s", code, stderr)
	}
}

// TestShortSysopTokenRefused: a guessable token is refused whatever the
// board listens on (m2bbs host behind Mongrel2, run on the loopback,
// from a flag, the environment or config.lua), and the message says why
// without printing it.
func TestShortSysopTokenRefused(t *testing.T) {
	dir := t.TempDir()
	withConfig := t.TempDir()
	if err := os.WriteFile(filepath.Join(withConfig, "config.lua"), []byte("sysop_token = 'change me'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, token string
		args             []string
	}{
		{"host with a short flag", dir, "", []string{"host", "-sysop-token", "letmein"}},
		{"host with a short token from the environment", dir, "letmein", []string{"host"}},
		{"host with config.lua's placeholder", withConfig, "", []string{"host"}},
		{"run on the loopback with a short token", dir, "", []string{"run", "-sysop-token", "letmein", "-port", "0", "-web-port", "-1", "-telnet-port", "-1", "-data", dir}},
	} {
		code, stderr := m2bbsIn(t, tc.dir, tc.token, 30*time.Second, append(tc.args, "-db", filepath.Join(dir, "bbs.db"))...)
		if code == 0 {
			t.Errorf("%s: exit status 0, want failure:\n%s", tc.name, stderr)
			continue
		}
		for _, want := range []string{"sysop token is too short", "M2BBS_SYSOP_TOKEN"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: the message does not say %q:\n%s", tc.name, want, stderr)
			}
		}
		if strings.Contains(stderr, "letmein") || strings.Contains(stderr, "change me") || strings.Contains(stderr, "ready") {
			t.Errorf("%s: the token is in the output, or the board started:\n%s", tc.name, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bbs.db")); err == nil {
		t.Error("a refused board created its database")
	}
}

func TestCheckToken(t *testing.T) {
	if err := checkToken("host", "short"); !errors.Is(err, access.ErrShortToken) {
		t.Errorf("checkToken(short) = %v", err)
	}
	for _, ok := range []string{"", "0123456789abcdef"} {
		if err := checkToken("host", ok); err != nil {
			t.Errorf("checkToken(%q) = %v", ok, err)
		}
	}
}

// TestListenAllWithATokenStarts: with a good token the public board
// starts, and the token appears nowhere in its log.
func TestListenAllWithATokenStarts(t *testing.T) {
	dir := t.TempDir()
	const token = "e2e-0123456789-abcdef-token"
	cmd := exec.Command(os.Args[0], "run", "-listen-all", "-port", "0", "-web-port", "0", "-telnet-port", "-1",
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-bcrypt-cost", "4", "-log-level", "DEBUG",
		"-scripts", proctest.Abs(t, "../../scripts"), "-screens", proctest.Abs(t, "../../screens"), "-main", e2eMain(t))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "M2BBS_SYSOP_TOKEN="+token)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := proctest.Watch(stderr)
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	<-logs.Done()
	if err := cmd.Wait(); err != nil {
		t.Errorf("m2bbs run: %v", err)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the sysop token is in the log:\n%s", logs)
	}
}

// TestSysopTokenNotShownInHelp: -h shows no token from the environment.
func TestSysopTokenNotShownInHelp(t *testing.T) {
	const token = "env-0123456789-abcdef-token"
	for _, cmd := range []string{"status", "run", "host"} {
		_, stderr := m2bbsIn(t, t.TempDir(), token, 30*time.Second, cmd, "-h")
		if !strings.Contains(stderr, "-sysop-token") || strings.Contains(stderr, token) {
			t.Errorf("m2bbs %s -h:\n%s", cmd, stderr)
		}
	}
}

// TestBadWebSocketOriginsRefused: a bad -ws-origins pattern, from the
// flag or config.lua, stops the board at start.
func TestBadWebSocketOriginsRefused(t *testing.T) {
	dir := t.TempDir()
	if code, stderr := m2bbsIn(t, dir, "", 30*time.Second, "host", "-ws-origins", "bbs.example.org,[bad"); code == 0 || !strings.Contains(stderr, `bad pattern "[bad"`) {
		t.Errorf("-ws-origins [bad: exit %d:\n%s", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.lua"), []byte("ws_origins = '*.example.org, [bad'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := m2bbsIn(t, dir, "", 30*time.Second, "host"); code == 0 || !strings.Contains(stderr, `bad pattern "[bad"`) {
		t.Errorf("ws_origins in config.lua: exit %d:\n%s", code, stderr)
	}
}

// TestDocumentedConfigTokenIsAPlaceholder: docs/configuration.md's
// config.lua example loads as it is, and its sysop token, uncommented
// without a change, is refused rather than guarded the board.
func TestDocumentedConfigTokenIsAPlaceholder(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "Settings can also live in `config.lua`")
	if !ok {
		t.Fatal("docs/configuration.md has no config.lua example")
	}
	_, rest, _ = strings.Cut(rest, "```lua\n")
	example, _, _ := strings.Cut(rest, "```")
	if !strings.Contains(example, "-- sysop_token = ") {
		t.Fatalf("the example has no commented-out sysop_token:\n%s", example)
	}
	load := func(text string) error {
		file := filepath.Join(t.TempDir(), "config.lua")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("M2BBS_SYSOP_TOKEN", "")
		_, err := parseSettings("host", []string{"-config", file}, io.Discard, nil)
		return err
	}
	if err := load(example); err != nil {
		t.Errorf("the example as it is: %v", err)
	}
	if err := load(strings.Replace(example, "-- sysop_token = ", "sysop_token = ", 1)); !errors.Is(err, access.ErrShortToken) {
		t.Errorf("the example's token uncommented: %v, want ErrShortToken", err)
	}
}
