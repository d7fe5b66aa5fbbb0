package scriptcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAnalyse(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		screens  []screenUse
		requires []string
		defines  bool
		returns  bool
	}{
		{
			name:    "screen calls",
			src:     "ui.screen(c, r, 'a')\nui.secret(c, r, \"b\")\nui.exit(c, r,\n  [[c]])\nlocal s = ui.text('doors/d')\n",
			screens: []screenUse{{"ui.screen", "a", 1}, {"ui.secret", "b", 2}, {"ui.exit", "c", 4}, {"ui.text", "doors/d", 5}},
		},
		{
			name:    "bracket field and nested calls",
			src:     "ui['screen'](c, r, 'a')\nprint(ui.text('b'))\nlocal t = {f = function() ui.exit(c, r, 'c') end}\n",
			screens: []screenUse{{"ui.screen", "a", 1}, {"ui.text", "b", 2}, {"ui.exit", "c", 3}},
		},
		{
			name:    "and/or literals",
			src:     "ui.screen(c, r, x and 'a' or 'b')\nui.screen(c, r, name or 'menu')\nui.screen(c, r, 'skip' and name)\n",
			screens: []screenUse{{"ui.screen", "a", 1}, {"ui.screen", "b", 1}, {"ui.screen", "menu", 2}},
		},
		{
			name: "not screen names",
			src:  "ui.screen(c, r, 'menu_' .. n)\nui.screen(c, r, name)\nui.display(c, r, 'text')\nui.ask(c, r, 'q', '> ')\nother.screen(c, r, 'x')\nui:screen(c, r, 'y')\nui.screen(c, r)\nui.text()\n",
		},
		{
			name:     "requires",
			src:      "require 'strict'\nrequire('doors.chess')\nlocal m = require(name)\n",
			requires: []string{"strict", "doors.chess"},
		},
		{name: "function statement", src: "function m2bbs(conn, req) end\n", defines: true},
		{name: "assignment", src: "m2bbs = make()\n", defines: true},
		{name: "assignment through _G", src: "_G['m2bbs'] = f\n", defines: true},
		{name: "assignment in a function", src: "function setup() m2bbs = function() end end\n", defines: true},
		{name: "local function", src: "local function m2bbs() end\n"},
		{name: "method of a table", src: "local t = {}\nfunction t.m2bbs() end\nfunction t:m2bbs() end\n"},
		{name: "returns a name", src: "local function main() end\nreturn main\n", returns: true},
		{name: "returns a function", src: "return function(conn) end\n", returns: true},
		{name: "returns in a do block", src: "do return main end\n", returns: true},
		{name: "returns a table", src: "return {}\n"},
		{name: "returns nil", src: "return nil\n"},
		{name: "bare return", src: "return\n"},
		{name: "return inside a function", src: "local function f() return f end\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := analyse("t.lua", []byte(tt.src), DefaultEntry, newEnv())
			if !s.parsed || len(s.problems) > 0 {
				t.Fatalf("parsed = %v, problems = %v", s.parsed, s.problems)
			}
			if !slices.Equal(s.screens, tt.screens) {
				t.Errorf("screens = %v, want %v", s.screens, tt.screens)
			}
			if !slices.Equal(s.requires, tt.requires) {
				t.Errorf("requires = %q, want %q", s.requires, tt.requires)
			}
			if s.definesEntry != tt.defines || s.returnsValue != tt.returns {
				t.Errorf("definesEntry, returnsValue = %v, %v; want %v, %v", s.definesEntry, s.returnsValue, tt.defines, tt.returns)
			}
		})
	}
}

func TestAnalyseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      Problem
	}{
		{"syntax", "x = = 1\n", Problem{File: "t.lua", Line: 1, Msg: `syntax error near '='`}},
		{"unterminated string", "local a\nx = 'abc\nlocal b\n", Problem{File: "t.lua", Line: 2, Msg: "unfinished string"}},
		{"unterminated string at the end", "local a\nx = 'abc", Problem{File: "t.lua", Line: 2, Msg: "unfinished string"}},
		{"end of file", "if x then\n", Problem{File: "t.lua", Line: 1, Msg: "'if' has no 'end'"}},
		{"unclosed bracket", "f(1,\n  2\nlocal y\n", Problem{File: "t.lua", Line: 1, Msg: "unclosed '(' (noticed at 'local' on line 3)"}},
		{"long token quoted short", "x = 1\ny y" + string(bytes.Repeat([]byte("z"), 100)), Problem{File: "t.lua", Line: 2,
			Msg: `parse error near 'y` + string(bytes.Repeat([]byte("z"), 39)) + `...'`}},
		{"compile", "break\n", Problem{File: "t.lua", Line: 1, Msg: "no loop to break"}},
		{"compile line past the end", "goto nowhere", Problem{File: "t.lua", Line: 1, Msg: "no visible label 'nowhere' for <goto> at line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := analyse("t.lua", []byte(tt.src), DefaultEntry, newEnv())
			if len(s.problems) != 1 || s.problems[0] != tt.want {
				t.Errorf("problems = %q, want [%q]", s.problems, tt.want)
			}
		})
	}
}

// FuzzCheckSource feeds arbitrary Lua source to the parser, the compiler
// and the syntax-tree walk: none may panic, and every line reported must be
// in the file.
func FuzzCheckSource(f *testing.F) {
	for _, glob := range []string{"../../../scripts/*.lua", "testdata/*/scripts/*.lua", "testdata/*/scripts/*/*.lua"} {
		paths, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range paths {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, src := range []string{
		"", "ui.screen(c, r, x and 'a' or 'b')", "return function() end", "goto x", "::a:: ::a::",
		"x = [[\n", "for i = 1, 2, 3 do end", "local t = {[1] = ui.text('a'), b = 2, 3}", "_G.m2bbs = 1",
		"local T = {}\nfunction f(...) T[#T+1] = arg; table.insert(T, 1) end", "module('m', package.seeall)\nx = y",
		"local engine = require 'engine'\ndo engine.run(c, function() end) end", "rawset(_G, 'a', 1) function _G.b() end",
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		lines := countLines(src)
		s := analyse("fuzz.lua", src, DefaultEntry, newEnv())
		if !s.parsed && len(s.problems) != 1 {
			t.Fatalf("unparsed with problems %v", s.problems)
		}
		for _, p := range s.problems {
			if p.File != "fuzz.lua" || p.Line < 0 || p.Line > lines || p.Msg == "" {
				t.Errorf("bad problem %+v in a %d-line file", p, lines)
			}
		}
		for _, u := range s.screens {
			if u.line < 1 || u.line > lines {
				t.Errorf("screen %q at line %d of a %d-line file", u.name, u.line, lines)
			}
		}
		if !s.parsed {
			return
		}
		// What the lint reports points into the file too.
		for _, r := range s.facts.reads {
			if r.line < 1 || r.line > lines {
				t.Errorf("global %q read at line %d of a %d-line file", r.name, r.line, lines)
			}
		}
		for _, r := range s.facts.requires {
			if r.line < 1 || r.line > lines {
				t.Errorf("require %q at line %d of a %d-line file", r.name, r.line, lines)
			}
		}
		for _, f := range s.facts.funcs {
			for _, w := range f.writes {
				if w.line < 1 || w.line > lines {
					t.Errorf("write into %q at line %d of a %d-line file", w.v.name, w.line, lines)
				}
			}
		}
		uiTexts(s.chunk)
	})
}
