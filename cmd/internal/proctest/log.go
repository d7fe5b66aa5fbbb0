// Package proctest is what the commands' tests share to run a program as a
// process of its own: a watcher of its log, a start that stops it when the
// test ends, and a build of a command with the test binary's build tags.
package proctest

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits of one log line: a scanner starts with scanBuffer bytes and grows
// up to MaxLine; a longer line ends the watching (the rest is drained).
const (
	scanBuffer = 64 << 10
	// MaxLine is the longest log line a Log keeps.
	MaxLine = 1 << 20
)

// Log collects a process's log lines and lets a test wait for one.
type Log struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every new line
	done    chan struct{} // closed at EOF
}

// Watch reads r's lines until EOF. A line longer than MaxLine ends the
// collecting; r is still read to EOF, so a writer to a pipe never blocks.
func Watch(r io.Reader) *Log {
	w := &Log{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, scanBuffer), MaxLine)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r) // a line past the buffer: keep the pipe drained
	}()
	return w
}

// Done is closed once the watched reader reached EOF (the process closed
// its end, normally by exiting).
func (w *Log) Done() <-chan struct{} { return w.done }

// WaitFor returns the first log line containing every one of parts,
// waiting for it up to timeout. It fails the test if the log ends or the
// time runs out first.
func (w *Log) WaitFor(t testing.TB, timeout time.Duration, parts ...string) string {
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
			t.Fatalf("process exited before logging %q:\n%s", parts, w)
		case <-deadline:
			t.Fatalf("no log line with %q after %v:\n%s", parts, timeout, w)
		}
	}
}

// Count is the number of log lines so far that contain every one of parts.
func (w *Log) Count(parts ...string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, line := range w.lines {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

// String is the log so far, one line a line.
func (w *Log) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
