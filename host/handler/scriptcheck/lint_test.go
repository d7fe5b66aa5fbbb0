package scriptcheck

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/luaapi"
)

// checkBoard checks a board written from files and returns its problems
// with the folder left off.
func checkBoard(t *testing.T, files map[string]string) []string {
	t.Helper()
	if _, ok := files["screens/bye.txt"]; !ok {
		files["screens/bye.txt"] = "Bye!\n"
	}
	dir := writeBoard(t, files)
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problemStrings(report) {
		got = append(got, filepath.ToSlash(strings.ReplaceAll(p, dir+string(filepath.Separator), "")))
	}
	return got
}

// sharedWarning is the end of the warning for a top-level table written
// while a caller runs.
const sharedWarning = "a table at the top level of this script, while a caller runs: " +
	"each worker's Lua state has its own copy, so callers on other workers do not see the change " +
	"(keep live shared state in the shared module, or run with -workers 1)"

func TestCheckBadScripts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "ui used without require",
			files: map[string]string{"scripts/bbs.lua": "function m2bbs(conn, req)\n" +
				"    ui.exit(conn, req, 'bye')\n" +
				"end\n"},
			want: []string{"scripts/bbs.lua:2: undefined global 'ui' (add require 'ui' to this script)"},
		},
		{
			name: "an access rule that does not compile",
			files: map[string]string{"scripts/bbs.lua": "require 'ui'\n" +
				"local items = {\n" +
				"    {key = 'A', access = \"level >= 20\"},\n" +
				"    {key = 'B', access = \"level >= 20 and group('tech'\"},\n" +
				"}\n" +
				"return function(conn, req) ui.exit(conn, req, 'bye') end\n"},
			want: []string{`scripts/bbs.lua:4: access rule "level >= 20 and group('tech'": column 29: expected ')', found the end of the rule`},
		},
		{
			name: "a module that does not exist",
			files: map[string]string{"scripts/bbs.lua": "require 'ui'\n" +
				"local sidereal = require 'sidereal'\n" +
				"local ok = pcall(require, 'optional')\n" +
				"return function(conn, req) ui.exit(conn, req, 'bye') end\n"},
			want: []string{"scripts/bbs.lua:2: require 'sidereal': no such module in scripts/ or the host"},
		},
		{
			name: "a misspelt function",
			files: map[string]string{"scripts/bbs.lua": "require 'ui'\n" +
				"local function greet(conn, req) ui.screen(conn, req, 'bye') end\n" +
				"function m2bbs(conn, req)\n" +
				"    greet(conn, req)\n" +
				"    gret(conn, req)\n" +
				"    gret(conn, req)\n" +
				"end\n"},
			want: []string{"scripts/bbs.lua:5: undefined global 'gret'"},
		},
		{
			name: "a file module that sets no global",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"require 'util'\n" +
					"function m2bbs(conn, req)\n" +
					"    ui.display(conn, req, util.hello())\n" +
					"end\n",
				"scripts/util.lua": "local M = {}\nfunction M.hello() return 'hi' end\nreturn M\n",
			},
			want: []string{"scripts/bbs.lua:4: undefined global 'util' (require 'util' returns the module without setting a global: local util = require 'util')"},
		},
		{
			name: "module without package.seeall hides globals",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"require 'greet'\n" +
					"function m2bbs(conn, req) greet.hello(conn, req) end\n",
				"scripts/greet.lua": "local ui = ui\n" +
					"module 'greet'\n" +
					"function hello(conn, req)\n" +
					"    ui.display(conn, req, shout('hi'))\n" +
					"    print('said hi')\n" +
					"end\n" +
					"function shout(s) return s .. _NAME end\n",
			},
			want: []string{"scripts/greet.lua:5: global 'print' is not visible here: after module(...) without package.seeall only the module's own names are"},
		},
		{
			name: "globals defined every way",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"require 'strict'\n" +
					"require 'lib'\n" +
					"DEBUG = nil -- declared the strict.lua way\n" +
					"local VERBOSE = VERBOSE or false -- a global that may be set\n" +
					"function m2bbs(conn, req, ...)\n" +
					"    local n = select('#', ...) + #arg\n" +
					"    set_later()\n" +
					"    ui.display(conn, req, from_lib .. from_rawset .. from_G .. later .. tostring(DEBUG) .. n)\n" +
					"    lib2.x()\n" +
					"end\n",
				"scripts/strict.lua": "-- a stand-in\n",
				"scripts/lib.lua": "module('lib2', package.seeall)\n" +
					"_G.from_G = 'g'\n" +
					"rawset(_G, 'from_rawset', 'r')\n" +
					"function x() return print end\n" +
					"function _G.set_later() _G.later = 'l' end\n" +
					"_G.from_lib = 'l'\n",
			},
		},
		{
			name: "a global the main script leaves to a door",
			files: map[string]string{
				"scripts/bbs.lua": "function m2bbs(conn, req)\n" +
					"    require('doors.guess').run(conn, req)\n" +
					"    ui.exit(conn, req, 'bye')\n" +
					"end\n",
				"scripts/doors/guess.lua": "require 'ui'\nreturn {run = function(conn, req) ui.display(conn, req, 'hi') end}\n",
			},
			want: []string{"scripts/bbs.lua:3: undefined global 'ui' (add require 'ui' to this script)"},
		},
		{
			name: "engine.run installs the entry",
			files: map[string]string{
				"scripts/bbs.lua": "local ui = require 'ui'\n" +
					"local engine = require 'engine'\n" +
					"local function m2bbs(conn)\n" +
					"    local req = coroutine.yield()\n" +
					"    ui.exit(conn, req, 'bye')\n" +
					"end\n" +
					"do\n" +
					"    local conn = {}\n" +
					"    engine.run(conn, m2bbs)\n" +
					"end\n",
				// Like the 2010 engine.lua: a loop run when the board
				// loads keeps every caller's coroutine in STATE.
				"scripts/engine.lua": "local coroutine = coroutine\n" +
					"module 'engine'\n" +
					"local STATE = {}\n" +
					"function run(conn, entry)\n" +
					"    STATE[1] = coroutine.create(entry)\n" +
					"end\n",
			},
		},
		{
			name: "engine.run under another name",
			files: map[string]string{
				"scripts/bbs.lua": "local ui = require 'ui'\n" +
					"local e = require 'engine'\n" +
					"e.run({}, function(conn) ui.exit(conn, coroutine.yield(), 'bye') end)\n",
				"scripts/engine.lua": "module 'engine'\nfunction run(conn, entry) end\n",
			},
		},
		{
			name: "engine.run inside a function installs nothing",
			files: map[string]string{
				"scripts/bbs.lua": "local engine = require 'engine'\n" +
					"local function start(conn) engine.run(conn, function() end) end\n",
				"scripts/engine.lua": "module 'engine'\nfunction run(conn, entry) end\n",
			},
			want: []string{"scripts/bbs.lua: no entry function: define a global function m2bbs(conn, req), " +
				"end the main script with `return` and the entry function, or install it with engine.run(conn, entry)"},
		},
		{
			name: "the scripts' own ui keeps its texts",
			files: map[string]string{
				"scripts/bbs.lua": "local ui = require 'ui'\n" +
					"function m2bbs(conn, req)\n" +
					"    req = ui.prompt(conn, req, 'name')\n" +
					"    ui.screen(conn, req, 'welcom')\n" +
					"    ui.exit(conn, req, 'bye')\n" +
					"end\n",
				"scripts/ui.lua": "module('ui', package.seeall)\n" +
					"local SCREENS = {\n" +
					"    ['name'] = \"What's your name?\",\n" +
					"    welcome = 'Hello',\n" +
					"    bye = 'Bye',\n" +
					"}\n" +
					"function display(conn, request, data) conn:reply_json(request, {type = 'screen', msg = data}) end\n" +
					"function screen(conn, request, name) display(conn, request, SCREENS[name]) end\n" +
					"function prompt(conn, request, name) return SCREENS[name] end\n" +
					"function exit(conn, request, name) return SCREENS[name] end\n",
			},
			want: []string{`scripts/bbs.lua:4: ui.screen: no text "welcom" in scripts/ui.lua's SCREENS`},
		},
		{
			name: "the scripts' own ui with texts made at run time",
			files: map[string]string{
				"scripts/bbs.lua": "local ui = require 'ui'\n" +
					"function m2bbs(conn, req) ui.screen(conn, req, 'anything') end\n",
				"scripts/ui.lua": "module('ui', package.seeall)\n" +
					"local TEXTS = {hello = 'Hello'}\n" +
					"TEXTS.bye = 'Bye'\n" +
					"function screen(conn, request, name) return TEXTS[name] end\n",
			},
		},
		{
			name: "top-level tables written while a caller runs",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"local chat = require 'chat'\n" +
					"function m2bbs(conn, req)\n" +
					"    chat.join(conn)\n" +
					"    ui.exit(conn, req, 'bye')\n" +
					"end\n",
				"scripts/chat.lua": "local M = {}\n" +
					"local members = {}\n" +
					"local history = {}\n" +
					"local STATE = {}\n" +
					"local loaded = false\n" +
					"local defaults = {}\n" +
					"defaults.colour = 'on' -- at load time: each state alike\n" +
					"local function note(line)\n" +
					"    table.insert(history, line)\n" +
					"end\n" +
					"function M.join(conn)\n" +
					"    loaded = true -- not a table\n" +
					"    local mine = {}\n" +
					"    mine[1] = conn -- a local of the function\n" +
					"    members[#members + 1] = conn\n" +
					"    note('joined')\n" +
					"    STATE[conn] = 1\n" +
					"    STATE[conn] = 2\n" +
					"end\n" +
					"return M\n",
			},
			want: []string{
				"scripts/chat.lua:9: warning: writes into 'history', " + sharedWarning,
				"scripts/chat.lua:15: warning: writes into 'members', " + sharedWarning,
				"scripts/chat.lua:17: warning: writes into 'STATE', " + sharedWarning,
			},
		},
		{
			name: "a table of a module(...) written by its functions",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"require 'room'\n" +
					"function m2bbs(conn, req)\n" +
					"    room.leave(conn)\n" +
					"end\n",
				"scripts/room.lua": "module('room', package.seeall)\n" +
					"members = {}\n" +
					"local bans = {}\n" +
					"function leave(conn)\n" +
					"    table.remove(members, 1)\n" +
					"    rawset(bans, conn, true)\n" +
					"end\n",
			},
			want: []string{
				"scripts/room.lua:5: warning: writes into 'members', " + sharedWarning,
				"scripts/room.lua:6: warning: writes into 'bans', " + sharedWarning,
			},
		},
		{
			name: "a table written by code the entry never reaches",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"local seen = {}\n" +
					"local function at_load(name) seen[name] = true end\n" +
					"at_load('bbs')\n" +
					"require 'unused'\n" +
					"return function(conn, req) ui.exit(conn, req, 'bye') end\n",
				"scripts/unused.lua": "local list = {}\nfunction add(x) list[#list + 1] = x end\n",
			},
		},
		{
			name: "a module filling its tables as it loads",
			files: map[string]string{
				"scripts/bbs.lua": "local ui = require 'ui'\n" +
					"local areas = require 'areas'\n" +
					"return function(conn, req) ui.display(conn, req, areas.describe('tech')) end\n",
				"scripts/areas.lua": "local M = {}\n" +
					"local names = {}\n" +
					"local function define(name, text) names[name] = text end\n" +
					"define('tech', 'Computers')\n" +
					"function M.describe(name) return names[name] end\n" +
					"return M\n",
			},
		},
		{
			name: "a global table written in a door",
			files: map[string]string{
				"scripts/bbs.lua": "require 'ui'\n" +
					"SCORES = {}\n" +
					"function m2bbs(conn, req)\n" +
					"    local door = require('doors.' .. req.data.msg)\n" +
					"    door.run(conn, req)\n" +
					"end\n",
				"scripts/doors/duel.lua": "return {run = function(conn, req)\n" +
					"    SCORES[req.conn_id] = 10\n" +
					"end}\n",
			},
			want: []string{"scripts/doors/duel.lua:2: warning: writes into 'SCORES', " + sharedWarning},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkBoard(t, tt.files)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// originalDir is where Debian's mongrel2-core installs the 2010 board.
const originalDir = "/usr/share/doc/mongrel2-core/examples/bbs"

// copyOriginal copies the 2010 board's scripts into dir/scripts, as a
// sysop would (bbs.lua is gzipped there), and makes an empty screens/.
// extra names more of its files to copy. The project carries no copy.
func copyOriginal(t *testing.T, dir string, extra ...string) {
	t.Helper()
	gz, err := os.ReadFile(filepath.Join(originalDir, "bbs.lua.gz"))
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
	files := map[string]string{"scripts/bbs.lua": string(bbs)}
	for _, name := range append([]string{"ui.lua", "strict.lua", "engine.lua", "config.lua"}, extra...) {
		text, err := os.ReadFile(filepath.Join(originalDir, name))
		if err != nil {
			t.Fatal(err)
		}
		files["scripts/"+name] = string(text)
	}
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "screens"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCheckOriginalBoard: on the 2010 board's files, unchanged, check
// reports only what is really wrong: require 'mongrel2' while the host
// has no such module, and with db.lua copied too, its require 'sidereal'
// (the 2010 Redis client, which nothing provides). Its texts live in its
// ui.lua, its entry is installed by engine.run, its globals are all
// defined, and engine.lua's STATE is written by a loop that runs when the
// board loads, not inside a caller's entry.
func TestCheckOriginalBoard(t *testing.T) {
	var want []string
	if !slices.Contains(luaapi.BuiltinModuleNames(), "mongrel2") {
		want = append(want, "scripts/bbs.lua:2: require 'mongrel2': no such module in scripts/ or the host")
	}
	for _, tt := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{name: "as the issue copies it", want: want},
		{name: "with db.lua", extra: []string{"db.lua"},
			want: append(slices.Clone(want), "scripts/db.lua:2: require 'sidereal': no such module in scripts/ or the host")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyOriginal(t, dir, tt.extra...)
			report, err := Check(tempConfig(dir))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problemStrings(report) {
				got = append(got, filepath.ToSlash(strings.ReplaceAll(p, dir+string(filepath.Separator), "")))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if report.Scripts != 5+len(tt.extra) {
				t.Errorf("Scripts = %d, want %d", report.Scripts, 5+len(tt.extra))
			}
		})
	}
}
