package luaapi

import (
	"fmt"
	"slices"

	lua "github.com/yuin/gopher-lua"
)

// BuiltinModuleNames lists the names of the built-in modules a script can
// require, in installation order. It is read from Modules, the one list
// the host installs, so a module added there is known here too (m2bbs
// check resolves require against it).
func BuiltinModuleNames() []string {
	var names []string
	for _, m := range New(Deps{}).Modules() {
		names = append(names, m.Name)
	}
	return names
}

// HostGlobals lists, sorted, the global names a script finds set when it
// starts: Lua's standard library as the host opens it, the compatibility
// functions and print. It opens a throwaway state exactly as the host
// does (Open) and reads its globals, so the list cannot drift from what
// the host installs. The built-in modules are not among them until a
// script requires one (see InstallModules).
func HostGlobals() ([]string, error) {
	L := lua.NewState()
	defer L.Close()
	if err := New(Deps{}).Open(L); err != nil {
		return nil, fmt.Errorf("host globals: %w", err)
	}
	var names []string
	L.Get(lua.GlobalsIndex).(*lua.LTable).ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			names = append(names, string(s))
		}
	})
	slices.Sort(names)
	return names, nil
}
