package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStrictErrorLogsTheScriptLine: a caller whose script reads an
// undeclared global under the 2010 strict.lua gets the error screen, and
// the sysop's log line names the script's line, not strict.lua's.
func TestStrictErrorLogsTheScriptLine(t *testing.T) {
	strict, err := os.ReadFile("/usr/share/doc/mongrel2-core/examples/bbs/strict.lua")
	if err != nil {
		t.Skipf("the 2010 strict.lua is not installed (apt install mongrel2-core): %v", err)
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "bbs.lua")
	files := map[string]string{
		"strict.lua": string(strict),
		"bbs.lua": `require 'strict'
require 'ui'

local function greet(conn, req)
    req = ui.ask(conn, req, 'name?')
    ui.display(conn, req, 'Hello, ' .. req.data.msg)
    return req, undeclared_name -- line 7
end

function m2bbs(conn)
    local req = coroutine.yield()
    greet(conn, req)
end
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	tbl, rec := newTable(t, main, &logs)
	tbl.Handle(msg("1", "connect"))
	expect(t, rec.take(), "1 prompt:name?")
	tbl.Handle(msg("1", "Ann"))
	expect(t, rec.take(), "1 screen:Hello, Ann", "1 exit:Sorry, we broke.", "1 hangup")
	want := main + ":7: variable 'undeclared_name' is not declared"
	if log := logs.String(); !strings.Contains(log, "script error") || !strings.Contains(log, want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// TestBrokenDoorLogsTheLineOfTheMistake: a door that does not compile is
// left out of the Doors menu with a log line naming the line of the
// mistake; a door that fails names its own line.
func TestBrokenDoorLogsTheLineOfTheMistake(t *testing.T) {
	b := newDoorBoard(t, scriptsWith(t, map[string]string{
		"doors/broken.lua": "return {\n    name = 'Broken',\n    run = function(conn, req, game)\n        return ui.ask(conn, req, 'hi'\n    end,\n}\n",
		"doors/boom.lua":   "return { name = 'Boom', run = function(conn, req, game)\n    local x = nil\n    return x.y\nend }\n",
	}), 1)
	b.play("1", "connect", "kim")
	mustContain(t, b.play("1", "1"), "That door jammed")
	logs := b.logs.String()
	for _, want := range []string{
		"doors/broken.lua:4: unclosed '(' (noticed at 'end' on line 5)",
		"doors/boom.lua:3: attempt to index a non-table object(nil) with key 'y'",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
