package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
)

// errposBoard is a 2010-style board under the 2010 strict.lua whose
// greeting reads an undeclared global on line 7.
const errposBoard = `require 'strict'
require 'ui'

local function greet(conn, req)
    req = ui.ask(conn, req, 'name?')
    ui.display(conn, req, 'Hello, ' .. req.data.msg)
    return req, undeclared_name
end

function m2bbs(conn)
    local req = coroutine.yield()
    greet(conn, req)
end
`

// errposBroken is the same board with a '(' left open on line 6.
const errposBroken = `require 'strict'
require 'ui'

local function greet(conn, req)
    req = ui.ask(conn, req, 'name?')
    ui.display(conn, req, 'Hello, ' .. req.data.msg
    return req
end

function m2bbs(conn)
    local req = coroutine.yield()
    greet(conn, req)
end
`

// TestSysopSeesTheScriptLine: what the sysop reads names the line of the
// script at fault: the log line of a caller's error under the 2010
// strict.lua (not strict.lua's own line), the log line of a hot edit that
// does not compile, and m2bbs check on that edit.
func TestSysopSeesTheScriptLine(t *testing.T) {
	strict, err := os.ReadFile("/usr/share/doc/mongrel2-core/examples/bbs/strict.lua")
	if err != nil {
		t.Skipf("the 2010 strict.lua is not installed (apt install mongrel2-core): %v", err)
	}
	dir := t.TempDir()
	scripts, screens := filepath.Join(dir, "scripts"), filepath.Join(dir, "screens")
	errorScreen, err := os.ReadFile("../../screens/error.txt")
	if err != nil {
		t.Fatal(err)
	}
	for path, text := range map[string][]byte{
		filepath.Join(scripts, "strict.lua"): strict,
		filepath.Join(scripts, "bbs.lua"):    []byte(errposBoard),
		filepath.Join(screens, "error.txt"):  errorScreen,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(scripts, "bbs.lua")
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(port), "-data", t.TempDir(),
		"-db", filepath.Join(t.TempDir(), "bbs.db"), "-scripts", scripts, "-screens", screens, "-main", main)
	logs.WaitFor(t, 30*time.Second, "host ready")
	b := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", port), logs: logs}
	b.awaitRoute(t)

	out, err := b.call(t).Run([]string{"Ann"}, readTimeout)
	if err != nil || !strings.HasSuffix(out, string(errorScreen)) {
		t.Fatalf("the caller did not get the error screen: %v\n%s", err, out)
	}
	line := logs.WaitFor(t, readTimeout, "script error")
	if want := "bbs.lua:7: variable 'undeclared_name' is not declared"; !strings.Contains(line, want) {
		t.Errorf("the log line lacks %q: %s", want, line)
	}

	if err := os.WriteFile(main, []byte(errposBroken), 0o644); err != nil {
		t.Fatal(err)
	}
	line = logs.WaitFor(t, readTimeout, "scripts not reloaded")
	const want = "bbs.lua:6: unclosed '(' (noticed at 'return' on line 7)"
	if !strings.Contains(line, want) {
		t.Errorf("the reload's log line lacks %q: %s", want, line)
	}
	checked, code := runCheckProcess(t, dir)
	if code == 0 || !strings.Contains(checked, "scripts/"+want) {
		t.Errorf("m2bbs check (exit %d) does not say %q:\n%s", code, "scripts/"+want, checked)
	}
}
