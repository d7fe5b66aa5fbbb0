package luaapi

import (
	"os"
	"os/exec"
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
