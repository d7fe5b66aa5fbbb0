package luaapi

import (
	"os"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"
)

// Files named by a relative path. The 2010 board ran from its own folder
// and read its settings with loadfile('config.lua'); on m2bbs its files
// sit in the scripts folder while the host runs from elsewhere. So
// loadfile and dofile look a relative path up in the scripts folder
// first, then, as before, in the working directory. Nothing new can be
// read this way: the same file was reachable by its longer path.

// scriptsDirKey holds the scripts folder in a state's registry.
const scriptsDirKey = "m2bbs.scripts_dir"

// setScriptsDir makes loadfile and dofile on L look relative paths up in
// dir first; nothing changes when dir is empty.
func setScriptsDir(L *lua.LState, dir string) {
	if dir != "" {
		L.SetField(L.Get(lua.RegistryIndex), scriptsDirKey, lua.LString(dir))
	}
}

// scriptPath is the file loadfile and dofile open for path: for a
// relative path, the file of that name in the scripts folder if there is
// one, else path itself (relative to the working directory).
func scriptPath(L *lua.LState, path string) string {
	dir, ok := L.GetField(L.Get(lua.RegistryIndex), scriptsDirKey).(lua.LString)
	if !ok || path == "" || filepath.IsAbs(path) {
		return path
	}
	inScripts := filepath.Join(string(dir), path)
	if info, err := os.Stat(inScripts); err == nil && !info.IsDir() {
		return inScripts
	}
	return path
}
