package luaapi

import (
	"slices"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestBuiltinModuleNames: every name m2bbs check takes for a built-in
// module is one a script can require in a state the host opened, and
// requiring it sets the global of its name.
func TestBuiltinModuleNames(t *testing.T) {
	names := BuiltinModuleNames()
	if !slices.Contains(names, "ui") || !slices.Contains(names, "db") {
		t.Fatalf("BuiltinModuleNames() = %q, want ui and db among them", names)
	}
	L := lua.NewState()
	defer L.Close()
	if err := New(Deps{}).Open(L); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := L.DoString("require '" + name + "'"); err != nil {
			t.Errorf("require %q: %v", name, err)
			continue
		}
		if L.GetGlobal(name) == lua.LNil {
			t.Errorf("require %q set no global %s", name, name)
		}
	}
}

// TestHostGlobals: the standard library and the 5.1 functions the host
// gives every script, and no module before it is required.
func TestHostGlobals(t *testing.T) {
	globals, err := HostGlobals()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"print", "require", "module", "setfenv", "unpack", "string", "table", "coroutine", "_G"} {
		if !slices.Contains(globals, want) {
			t.Errorf("HostGlobals() lacks %q: %q", want, globals)
		}
	}
	for _, name := range BuiltinModuleNames() {
		if slices.Contains(globals, name) {
			t.Errorf("HostGlobals() has the module %q, a global only once required", name)
		}
	}
}
