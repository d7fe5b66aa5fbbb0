package proctest

import (
	"errors"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
)

// StopTimeout is how long Start's cleanup waits for the process to exit on
// SIGTERM before it kills it.
const StopTimeout = 10 * time.Second

// Start starts cmd and watches its standard error. When the test ends the
// process gets SIGTERM; an exit other than 0, or no exit within
// StopTimeout (then SIGKILL), fails the test, and a failed test logs the
// process's log. name names the process in those messages.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Log {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := Watch(stderr)
	exited := make(chan error, 1)
	go func() {
		<-logs.Done()
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v:\n%s", name, err, logs)
			}
		case <-time.After(StopTimeout):
			_ = cmd.Process.Kill()
			t.Errorf("%s ignored SIGTERM for %v:\n%s", name, StopTimeout, logs)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	return logs
}

// BuildTags are the build tags the running binary was built with (e.g.
// "libsqlite3" under go test -tags libsqlite3), "" if none.
func BuildTags() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "-tags" {
			return s.Value
		}
	}
	return ""
}

// Build builds the Go main package pkg (an import path, or a path starting
// with ./) into the file out with the running binary's build tags, in the
// current directory. The error carries go build's output; the caller adds
// what it built.
func Build(pkg, out string) error {
	args := []string{"build", "-o", out}
	if tags := BuildTags(); tags != "" {
		args = append(args, "-tags", tags)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	msgs, err := exec.Command(goCmd, append(args, pkg)...).CombinedOutput()
	if err != nil {
		return errors.Join(err, errors.New(string(msgs)))
	}
	return nil
}

// Abs is path made absolute, failing the test if it cannot be.
func Abs(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
