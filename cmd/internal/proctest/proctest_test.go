package proctest

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLog: a test waits for a line that is not there yet, counts lines and
// reads the whole log; Done closes at EOF.
func TestLog(t *testing.T) {
	r, w := io.Pipe()
	logs := Watch(r)
	go func() {
		fmt.Fprintln(w, "level=INFO msg=start conn_id=1")
		fmt.Fprintln(w, "level=INFO msg=call conn_id=2")
		fmt.Fprintln(w, "level=WARN msg=call conn_id=3")
		w.Close()
	}()
	if got := logs.WaitFor(t, 5*time.Second, "WARN", "call"); got != "level=WARN msg=call conn_id=3" {
		t.Errorf("WaitFor = %q", got)
	}
	if n := logs.Count("msg=call"); n != 2 {
		t.Errorf("Count(msg=call) = %d, want 2", n)
	}
	select {
	case <-logs.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed at EOF")
	}
	if got := logs.String(); strings.Count(got, "\n") != 2 || !strings.HasPrefix(got, "level=INFO msg=start") {
		t.Errorf("String = %q", got)
	}
}

// TestLogDrainsALongLine: past a line longer than MaxLine the writer is not
// blocked; the lines before it are kept.
func TestLogDrainsALongLine(t *testing.T) {
	r, w := io.Pipe()
	logs := Watch(r)
	wrote := make(chan error, 1)
	go func() {
		_, err := fmt.Fprintf(w, "first\n%s\nlast\n", strings.Repeat("x", MaxLine+1))
		w.Close()
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer blocked on a line past MaxLine")
	}
	<-logs.Done()
	if got := logs.String(); got != "first" {
		t.Errorf("String = %q, want the line before the long one", got)
	}
}

// TestBuildAndStart: Build gives the program this test's build tags; Start
// runs it, and its cleanup stops it with SIGTERM (a clean exit).
func TestBuildAndStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	exe := filepath.Join(t.TempDir(), "logger")
	if err := Build("./testdata/logger", exe); err != nil {
		t.Fatalf("build logger: %v", err)
	}
	var logs *Log
	t.Run("run", func(t *testing.T) {
		logs = Start(t, "logger", exec.Command(exe))
		logs.WaitFor(t, 10*time.Second, "logger ready")
		if want := fmt.Sprintf("tags=%q", BuildTags()); logs.Count(want) != 1 {
			t.Errorf("logger built with other tags than %s:\n%s", want, logs)
		}
	})
	if !strings.Contains(logs.String(), "bye") {
		t.Errorf("logger was not stopped with SIGTERM:\n%s", logs)
	}
}

// TestAbs: a relative path comes back absolute, naming the same place.
func TestAbs(t *testing.T) {
	got := Abs(t, "testdata/logger")
	if !filepath.IsAbs(got) || !strings.HasSuffix(got, filepath.Join("proctest", "testdata", "logger")) {
		t.Errorf("Abs = %q", got)
	}
}
