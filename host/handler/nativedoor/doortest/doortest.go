// Package doortest builds the native door the tests run
// (host/handler/nativedoor/testdata/testdoor): it reads the DOOR32.SYS and
// DOOR.SYS in its folder, greets the caller by name with their time left
// and node, and echoes keys until Q; its other modes hang (ignoring
// SIGHUP, with a child), flood, eat memory or print their environment.
package doortest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// Build builds the test door once per test binary and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, here, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(here), "..", "testdata", "testdoor")
		var dir string
		if dir, err = os.MkdirTemp("", "testdoor"); err != nil {
			return
		}
		path = filepath.Join(dir, "testdoor")
		cmd := exec.Command("go", "build", "-o", path, ".")
		cmd.Dir = src
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build the test door: %v\n%s", err, out)
	}
	return path
}
