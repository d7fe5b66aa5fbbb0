package luaapi

import (
	"math"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// stockFormat is gopher-lua's own string.format of format and args.
func stockFormat(t testing.TB, format string, args ...lua.LValue) string {
	L := lua.NewState()
	defer L.Close()
	fn := L.GetField(L.GetGlobal("string"), "format")
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, append([]lua.LValue{lua.LString(format)}, args...)...); err != nil {
		t.Fatalf("stock string.format(%q): %v", format, err)
	}
	return L.Get(-1).String()
}

// tryFast runs fastFormat on format and args.
func tryFast(format string, args ...lua.LValue) (string, bool) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	L.Push(lua.LString(format))
	for _, a := range args {
		L.Push(a)
	}
	return fastFormat(L, format)
}

func TestFastFormatWritesWhatGopherLuaWrites(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []lua.LValue
	}{
		{"--- %d of %d ---\n%s", []lua.LValue{lua.LNumber(3), lua.LNumber(100), lua.LString("text")}},
		{"---- #%d -----", []lua.LValue{lua.LNumber(-7)}},
		{"%d", []lua.LValue{lua.LNumber(2.9)}},
		{"%d", []lua.LValue{lua.LNumber(-2.9)}},
		{"%d", []lua.LValue{lua.LNumber(1e300)}},
		{"%s and %s", []lua.LValue{lua.LNumber(1.5), lua.LNumber(42)}},
		{"no specs", nil},
		{"%s", []lua.LValue{lua.LString("extra"), lua.LString("ignored")}},
		{"é%sé", []lua.LValue{lua.LString("\xff")}},
	} {
		got, ok := tryFast(c.format, c.args...)
		if !ok {
			t.Errorf("%q: left to gopher-lua", c.format)
			continue
		}
		if want := stockFormat(t, c.format, c.args...); got != want {
			t.Errorf("%q %v: fast %q, gopher-lua %q", c.format, c.args, got, want)
		}
	}
}

func TestFastFormatLeavesTheRestToGopherLua(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []lua.LValue
	}{
		{"%5d", []lua.LValue{lua.LNumber(1)}},
		{"%-s", []lua.LValue{lua.LString("a")}},
		{"%x", []lua.LValue{lua.LNumber(1)}},
		{"100%%", nil},
		{"%d", []lua.LValue{lua.LString("12")}},
		{"%s", []lua.LValue{lua.LTrue}},
		{"%s", []lua.LValue{lua.LNil}},
		{"%d and %d", []lua.LValue{lua.LNumber(1)}},
		{"ends in %", []lua.LValue{lua.LNumber(1)}},
		{"%q", []lua.LValue{lua.LString("a")}},
	} {
		if got, ok := tryFast(c.format, c.args...); ok {
			t.Errorf("%q: written fast as %q", c.format, got)
		}
	}
}

// FuzzFastFormatAgrees: whatever fastFormat writes, gopher-lua's
// string.format writes the same.
func FuzzFastFormatAgrees(f *testing.F) {
	f.Add("--- %d of %d ---\n%s", 3.0, "x")
	f.Add("%s%s%d", 1.5, "")
	f.Add("%d%%", math.Inf(1), "a")
	f.Fuzz(func(t *testing.T, format string, n float64, s string) {
		args := []lua.LValue{lua.LNumber(n), lua.LString(s), lua.LNumber(n), lua.LString(s)}
		got, ok := tryFast(format, args...)
		if !ok {
			return
		}
		if want := stockFormat(t, format, args...); got != want {
			t.Fatalf("%q (%v, %q): fast %q, gopher-lua %q", format, n, s, got, want)
		}
	})
}

func BenchmarkStringFormat(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	openBounded(L)
	if err := L.DoString(`function title(i, n, text) return ('--- %d of %d ---\n%s'):format(i, n, text) end`); err != nil {
		b.Fatal(err)
	}
	fn := L.GetGlobal("title")
	b.ReportAllocs()
	for b.Loop() {
		if err := L.CallByParam(lua.P{Fn: fn, NRet: 1}, lua.LNumber(3), lua.LNumber(100), lua.LString("From: zed")); err != nil {
			b.Fatal(err)
		}
		L.Pop(1)
	}
}
