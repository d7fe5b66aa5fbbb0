package luaapi

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// levelsScript prints, for each way a script can raise an error, the
// message a pcall gets; levelsGolden is what Lua 5.1 prints for it.
const (
	levelsScript = "testdata/errpos/levels.lua"
	levelsGolden = "testdata/errpos/levels.golden"
)

// printTo makes print write its arguments, tab-separated, as lines of b.
func printTo(L *lua.LState, b *strings.Builder) {
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		return 0
	}))
}

func TestErrorPositionsAreLua51s(t *testing.T) {
	want, err := os.ReadFile(levelsGolden)
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"main state", "caller's coroutine"} {
		t.Run(where, func(t *testing.T) {
			e := newTestEnv(t)
			var out strings.Builder
			printTo(e.L, &out)
			fn, err := LoadFile(e.L, levelsScript)
			if err != nil {
				t.Fatal(err)
			}
			if where == "main state" {
				e.L.Push(fn)
				err = e.L.PCall(0, 0, nil)
			} else {
				th, _ := e.L.NewThread()
				_, err, _ = e.L.Resume(th, fn)
			}
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, out.String(), string(want))
		})
	}
}

// TestLevelsGoldenIsLua51s checks the golden file against Lua 5.1 itself
// where it is installed.
func TestLevelsGoldenIsLua51s(t *testing.T) {
	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 is not installed: the golden file is not checked against it")
	}
	got, err := exec.Command(lua51, levelsScript).Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(levelsGolden)
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, string(got), string(want))
}

// diffLines reports each line of got that differs from want's.
func diffLines(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
}

// original2010 is where Debian's mongrel2-core installs the 2010 board.
const original2010 = "/usr/share/doc/mongrel2-core/examples/bbs"

// copyStrict copies the 2010 strict.lua into dir, skipping the test when
// it is not installed.
func copyStrict(t *testing.T, dir string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(original2010, "strict.lua"))
	if err != nil {
		t.Skipf("the 2010 strict.lua is not installed (apt install mongrel2-core): %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "strict.lua"), src, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestErrorPositionsThroughModulesAndMetamethods runs main.lua (with the
// modules beside it) and compares the error it raises with what Lua 5.1
// raises for the same files.
func TestErrorPositionsThroughModulesAndMetamethods(t *testing.T) {
	check := "local M = {}\nfunction M.check(x)\n  if not x then error('check failed', 2) end\nend\nreturn M\n"
	shippedStrict, err := os.ReadFile("../scripts/strict.lua")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		strict bool
		files  map[string]string
		main   string
		want   string
	}{
		{name: "strict.lua: a function reads an undeclared global", strict: true,
			main: "require 'strict'\nlocal function f()\n  return undeclared\nend\nf()\n",
			want: "main.lua:3: variable 'undeclared' is not declared"},
		{name: "strict.lua: a function assigns an undeclared global", strict: true,
			main: "require 'strict'\nlocal function g()\n  newglobal = 1\nend\ng()\n",
			want: "main.lua:3: assign to undeclared variable 'newglobal'"},
		{name: "strict.lua: inside pcall", strict: true,
			main: "require 'strict'\nlocal ok, err = pcall(function()\n  local a = 1\n  return undeclared\nend)\nerror(err, 0)\n",
			want: "main.lua:4: variable 'undeclared' is not declared"},
		{name: "strict.lua: inside a coroutine", strict: true,
			main: "require 'strict'\nlocal co = coroutine.create(function()\n  return undeclared\nend)\nlocal ok, err = coroutine.resume(co)\nerror(err, 0)\n",
			want: "main.lua:3: variable 'undeclared' is not declared"},
		{name: "the shipped strict.lua",
			files: map[string]string{"strict.lua": string(shippedStrict)},
			main:  "require 'strict'\nlocal function f()\n  return undeclared\nend\nf()\n",
			want:  "main.lua:3: undeclared global 'undeclared'"},
		{name: "a module's function blames its caller",
			files: map[string]string{"mod.lua": check},
			main:  "local mod = require 'mod'\n\nmod.check(false)\n",
			want:  "main.lua:3: check failed"},
		{name: "a module's function blames its caller through pcall",
			files: map[string]string{"mod.lua": check},
			main:  "local mod = require 'mod'\nlocal ok, err = pcall(mod.check, false)\nassert(not ok)\nerror(err, 0)\n",
			want:  "check failed"},
		{name: "a module's function blames its caller inside pcall",
			files: map[string]string{"mod.lua": check},
			main:  "local mod = require 'mod'\nlocal ok, err = pcall(function()\n  mod.check(false)\nend)\nerror(err, 0)\n",
			want:  "main.lua:3: check failed"},
		{name: "a module's top level, level 1",
			files: map[string]string{"broken.lua": "local x = 1\nerror('broken module')\n"},
			main:  "require 'broken'\n",
			want:  "./broken.lua:2: broken module"},
		{name: "a module's top level, level 2 is require",
			files: map[string]string{"top2.lua": "local x = 1\nerror('top', 2)\n"},
			main:  "require 'top2'\n",
			want:  "top"},
		{name: "a module's top level, level 3 is the line that required it",
			files: map[string]string{"top3.lua": "local x = 1\nerror('top', 3)\n"},
			main:  "local x = 1\nrequire 'top3'\n",
			want:  "main.lua:2: top"},
		{name: "assert names its caller",
			main: "local function f(x)\n  assert(x, 'x is required')\nend\nf()\n",
			want: "main.lua:2: x is required"},
		{name: "a Go function's argument error names the script line",
			main: "local function f()\n  return string.rep()\nend\nf()\n",
			want: "main.lua:2: bad argument #1 to rep (string expected, got nil)"},
		{name: "a host function written in Lua blames its caller",
			main: "require 'ui'\nlocal function f()\n  ui.read_lines(conn, req, 0)\nend\nf()\n",
			want: fmt.Sprintf("main.lua:3: ui.read_lines: the line limit must be a whole number from 1 to %d", MaxMessageLines)},
		{name: "a host function's argument error names the script line",
			main: "require 'ui'\nlocal ok, err = pcall(function()\n  ui.trim({})\nend)\nerror(err, 0)\n",
			want: "main.lua:3: bad argument #1 to trim (string expected, got table)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.strict {
				copyStrict(t, dir)
			}
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(tt.main), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			e := newTestEnv(t)
			e.run(t, `package.path = './?.lua'`)
			fn, err := LoadFile(e.L, "main.lua")
			if err != nil {
				t.Fatal(err)
			}
			th, _ := e.L.NewThread()
			st, err, _ := e.L.Resume(th, fn)
			if st != lua.ResumeError {
				t.Fatalf("main.lua ran without an error (%v)", st)
			}
			if got := errorText(err); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

// errorText is the error value a script raised, without the stack trace.
func errorText(err error) string {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Object != nil {
		return apiErr.Object.String()
	}
	return err.Error()
}

// TestSyntaxErrorsNameTheLineOfTheMistake: however a script is compiled
// (the main script, require, dofile, loadfile, loadstring), a syntax error
// names the line of the mistake.
func TestSyntaxErrorsNameTheLineOfTheMistake(t *testing.T) {
	broken := "local a = 1\nprint('a',\n  1\nlocal x = 2\n"
	const want = "broken.lua:2: unclosed '(' (noticed at 'local' on line 4)"
	dir := t.TempDir()
	for name, src := range map[string]string{
		"broken.lua":  broken,
		"shebang.lua": "#!/usr/bin/lua\nlocal a = 1\nif a then\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	e := newTestEnv(t)
	e.run(t, `package.path = './?.lua'`)
	for _, tt := range []struct{ name, src, want string }{
		{"require", `require 'broken'`, "error loading module 'broken' from file './broken.lua':\n\t./" + want},
		{"dofile", `dofile 'broken.lua'`, want},
		{"loadfile", `local f, err = loadfile('broken.lua') error(err, 0)`, want},
		{"loadstring", `local f, err = loadstring(...) error(err, 0)`, strings.Replace(want, "broken.lua", "<string>", 1)},
		{"a first line starting with #", `local f, err = loadfile('shebang.lua') error(err, 0)`,
			"shebang.lua:3: 'if' has no 'end'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fn, err := LoadString(e.L, tt.src, "main.lua")
			if err != nil {
				t.Fatal(err)
			}
			e.L.Push(fn)
			e.L.Push(lua.LString(broken))
			err = e.L.PCall(1, 0, nil)
			if err == nil || errorText(err) != tt.want {
				t.Errorf("error = %q, want %q", errorText(err), tt.want)
			}
		})
	}
	_, err := LoadFile(e.L, "broken.lua")
	if err == nil || errorText(err) != want {
		t.Errorf("LoadFile: %v, want %q", err, want)
	}
}

// BenchmarkError is error(msg, 2) caught by a protected call from Go,
// with the host's error and with gopher-lua's own.
func BenchmarkError(b *testing.B) {
	benchHostAndStock(b, `
		local function check(x) if not x then error('bad', 2) end end
		return function() check(false) end`,
		func(b *testing.B, L *lua.LState, f lua.LValue) {
			for b.Loop() {
				L.Push(f)
				if err := L.PCall(0, 0, nil); err == nil {
					b.Fatal("no error")
				}
			}
		})
}

// BenchmarkWrap is one resume of a coroutine.wrap generator, with the
// host's wrap and with gopher-lua's own.
func BenchmarkWrap(b *testing.B) {
	benchHostAndStock(b, `
		return coroutine.wrap(function() while true do coroutine.yield(1) end end)`,
		func(b *testing.B, L *lua.LState, gen lua.LValue) {
			for b.Loop() {
				L.Push(gen)
				L.Call(0, 1)
				L.Pop(1)
			}
		})
}

// benchHostAndStock runs bench on a state opened as the host opens its
// states (OpenCompat) and on a plain gopher-lua state, with the value src
// returns.
func benchHostAndStock(b *testing.B, src string, bench func(b *testing.B, L *lua.LState, v lua.LValue)) {
	for _, tt := range []struct {
		name string
		open func(L *lua.LState) error
	}{
		{"host", OpenCompat},
		{"gopher-lua", func(*lua.LState) error { return nil }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			if err := tt.open(L); err != nil {
				b.Fatal(err)
			}
			if err := L.DoString(src); err != nil {
				b.Fatal(err)
			}
			v := L.Get(-1)
			L.Pop(1)
			b.ReportAllocs()
			bench(b, L, v)
		})
	}
}

// TestTailCallsAreRead: tailCalls reads gopher-lua's count of the tail
// calls that replaced a frame (an unexported field); this fails first if
// a gopher-lua upgrade renames it.
func TestTailCallsAreRead(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var got []int
	L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
		dbg, ok := L.GetStack(1)
		if !ok {
			t.Fatal("no caller")
		}
		got = append(got, tailCalls(dbg))
		return 0
	}))
	if err := L.DoString(`
		local function g() probe() end
		local function f() return g() end
		f()
		g()`); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Errorf("tail calls = %v, want [1 0]", got)
	}
}
